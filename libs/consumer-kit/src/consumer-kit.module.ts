import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GitlabLimiterRegistry } from '@testkase/gitlab';
import {
  ConsumerRegistry,
  gitlabMetrics,
  Inbox,
  LOGGER,
  MetricsRegistry,
  NatsClient,
  Outbox,
  type Logger,
} from '@testkase/platform';

import { ConnectionEventsConsumer } from './connections/connection-events.consumer';
import { ConnectionProjection } from './connections/connection-projection';
import { CredentialsProvider } from './gitlab/credentials.provider';
import { GitlabAccess } from './gitlab/gitlab-access.service';
import { PostgresLimiterStore } from './gitlab/postgres-limiter.store';
import { CONSUMER_KIT_OPTIONS, type ConsumerKitOptions } from './kit.options';

@Injectable()
class KitLifecycle implements OnApplicationShutdown {
  constructor(@Inject(GitlabAccess) private readonly access: GitlabAccess) {}

  async onApplicationShutdown(): Promise<void> {
    await this.access.close();
  }
}

/**
 * What every GitLab consumer (requirement-sync, defect-sync, comment-relay) shares: its projection
 * of connections, kept from `integration.connection.*`; credentials over NATS request/reply; one
 * GitLab client per connection; and the report of a refused token. Import it once, after the
 * PlatformModule (whose DataSource, NATS and outbox it uses); its providers are global.
 */
@Module({})
export class ConsumerKitModule {
  static forRoot(options: ConsumerKitOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: CONSUMER_KIT_OPTIONS, useValue: options },
      {
        provide: ConnectionProjection,
        useFactory: () => new ConnectionProjection(options.schema, options.locks.gate),
      },
      {
        provide: CredentialsProvider,
        useFactory: (nats: NatsClient) =>
          new CredentialsProvider(nats, {
            ttlMs: options.config.CREDENTIALS_CACHE_TTL,
            timeoutMs: options.config.CREDENTIALS_TIMEOUT,
          }),
        inject: [NatsClient],
      },
      {
        provide: GitlabAccess,
        useFactory: (
          credentials: CredentialsProvider,
          connections: ConnectionProjection,
          dataSource: DataSource,
          outbox: Outbox,
          logger: Logger,
          metrics: MetricsRegistry,
        ) =>
          new GitlabAccess(
            options.service,
            credentials,
            connections,
            dataSource,
            outbox,
            options.config,
            logger,
            // One budget per token for all the service's replicas (docs/ARCHITECTURE.md, "Running
            // many replicas"), in the service's own schema.
            new GitlabLimiterRegistry({ store: new PostgresLimiterStore(dataSource, options.schema) }),
            gitlabMetrics(metrics),
          ),
        inject: [CredentialsProvider, ConnectionProjection, DataSource, Outbox, LOGGER, MetricsRegistry],
      },
      {
        provide: ConnectionEventsConsumer,
        useFactory: (
          dataSource: DataSource,
          consumers: ConsumerRegistry,
          inbox: Inbox,
          connections: ConnectionProjection,
          access: GitlabAccess,
          logger: Logger,
        ) =>
          new ConnectionEventsConsumer(
            options.service,
            dataSource,
            consumers,
            inbox,
            connections,
            access,
            logger,
          ),
        inject: [DataSource, ConsumerRegistry, Inbox, ConnectionProjection, GitlabAccess, LOGGER],
      },
      KitLifecycle,
    ];
    return {
      module: ConsumerKitModule,
      global: true,
      providers,
      exports: [
        CONSUMER_KIT_OPTIONS,
        ConnectionProjection,
        CredentialsProvider,
        GitlabAccess,
        ConnectionEventsConsumer,
      ],
    };
  }
}
