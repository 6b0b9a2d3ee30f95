import {
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  DatabaseConnector,
  EventPublisher,
  LOGGER,
  MetricsRegistry,
  NatsClient,
  type Logger,
} from '@testkase/platform';

import { GatewayConfig } from '../config/webhook-gateway.config';
import { PipelinedJetStreamPublisher } from '../messaging/pipelined-publisher.adapter';
import { SpoolRelay } from '../spool/spool-relay.service';
import { SpoolRepository } from '../spool/spool.repository';
import { DeliveriesSeenReporter } from './deliveries-seen.service';
import { DeliveryAuthenticator } from './delivery-authenticator.service';
import { DeliveryIntakeService } from './delivery-intake.service';
import { GitlabWebhookController } from './gitlab-webhook.controller';
import { InflightBudget } from './inflight-budget';
import { VerifierSnapshot } from './verifier-snapshot';
import { WebhookVerifierStore } from './verifier-store.service';
import { GatewayMetrics } from './webhook.metrics';

/** Starts the background parts in order and stops them around the HTTP server's drain. */
@Injectable()
class WebhookLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly verifiers: WebhookVerifierStore,
    private readonly publisher: PipelinedJetStreamPublisher,
    private readonly relay: SpoolRelay,
    private readonly seen: DeliveriesSeenReporter,
  ) {}

  onApplicationBootstrap(): void {
    this.verifiers.start();
    this.publisher.start();
    this.relay.start();
    this.seen.start();
  }

  /** Before the HTTP server drains: in-flight deliveries still publish or spool after this. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.relay.stop(), this.seen.stop()]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.publisher.stop();
    await this.verifiers.stop();
  }
}

/** The webhook route, its authentication, JetStream publishing, the spool and its relay. */
@Module({})
export class WebhookModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: WebhookModule,
      providers: [
        { provide: GatewayConfig, useValue: config },
        {
          provide: GatewayMetrics,
          useFactory: (metrics: MetricsRegistry) => new GatewayMetrics(metrics),
          inject: [MetricsRegistry],
        },
        {
          provide: WebhookVerifierStore,
          useFactory: (
            nats: NatsClient,
            dataSource: DataSource,
            connector: DatabaseConnector,
            logger: Logger,
          ) =>
            new WebhookVerifierStore(
              nats,
              {
                lookupTimeoutMs: config.WEBHOOK_VERIFIER_LOOKUP_TIMEOUT,
                unknownTtlMs: config.WEBHOOK_UNKNOWN_CONNECTION_TTL,
              },
              logger,
              new VerifierSnapshot(dataSource, connector, logger),
            ),
          inject: [NatsClient, DataSource, DatabaseConnector, LOGGER],
        },
        {
          provide: DeliveryAuthenticator,
          useFactory: (verifiers: WebhookVerifierStore) =>
            new DeliveryAuthenticator(verifiers, config.WEBHOOK_SIGNATURE_TOLERANCE),
          inject: [WebhookVerifierStore],
        },
        {
          provide: PipelinedJetStreamPublisher,
          useFactory: (nats: NatsClient, logger: Logger) =>
            new PipelinedJetStreamPublisher(nats, config.WEBHOOK_PUBLISH_TIMEOUT, logger),
          inject: [NatsClient, LOGGER],
        },
        {
          provide: SpoolRepository,
          useFactory: (dataSource: DataSource) =>
            new SpoolRepository(dataSource, config.WEBHOOK_SPOOL_WRITE_TIMEOUT),
          inject: [DataSource],
        },
        {
          provide: SpoolRelay,
          useFactory: (
            publisher: PipelinedJetStreamPublisher,
            nats: NatsClient,
            logger: Logger,
            metrics: MetricsRegistry,
          ) =>
            new SpoolRelay(
              {
                databaseUrl: config.DATABASE_URL,
                batchSize: config.SPOOL_BATCH_SIZE,
                pollIntervalMs: config.SPOOL_POLL_INTERVAL,
                parkedRetentionMs: config.SPOOL_PARKED_RETENTION,
              },
              publisher,
              nats,
              logger,
              metrics,
            ),
          inject: [PipelinedJetStreamPublisher, NatsClient, LOGGER, MetricsRegistry],
        },
        {
          provide: DeliveryIntakeService,
          useFactory: (
            nats: NatsClient,
            publisher: PipelinedJetStreamPublisher,
            spool: SpoolRepository,
            relay: SpoolRelay,
            metrics: GatewayMetrics,
            logger: Logger,
          ) =>
            new DeliveryIntakeService(nats, publisher, spool, relay, metrics, logger, {
              connectionBytes: config.SPOOL_PARKED_MAX_BYTES_PER_CONNECTION,
              totalBytes: config.SPOOL_PARKED_MAX_BYTES,
              pendingConnectionBytes: config.SPOOL_PENDING_MAX_BYTES_PER_CONNECTION,
            }),
          inject: [
            NatsClient,
            PipelinedJetStreamPublisher,
            SpoolRepository,
            SpoolRelay,
            GatewayMetrics,
            LOGGER,
          ],
        },
        {
          provide: DeliveriesSeenReporter,
          useFactory: (
            nats: NatsClient,
            publisher: EventPublisher,
            logger: Logger,
            verifiers: WebhookVerifierStore,
          ) =>
            new DeliveriesSeenReporter(nats, publisher, config.DELIVERIES_SEEN_INTERVAL, logger, verifiers),
          inject: [NatsClient, EventPublisher, LOGGER, WebhookVerifierStore],
        },
        {
          provide: GitlabWebhookController,
          useFactory: (
            authenticator: DeliveryAuthenticator,
            intake: DeliveryIntakeService,
            seen: DeliveriesSeenReporter,
            metrics: GatewayMetrics,
            logger: Logger,
          ) =>
            new GitlabWebhookController(
              authenticator,
              intake,
              seen,
              metrics,
              logger,
              new InflightBudget(config.WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION, config.WEBHOOK_INFLIGHT_BYTES),
            ),
          inject: [
            DeliveryAuthenticator,
            DeliveryIntakeService,
            DeliveriesSeenReporter,
            GatewayMetrics,
            LOGGER,
          ],
        },
        {
          provide: WebhookLifecycle,
          useFactory: (...deps: ConstructorParameters<typeof WebhookLifecycle>) =>
            new WebhookLifecycle(...deps),
          inject: [WebhookVerifierStore, PipelinedJetStreamPublisher, SpoolRelay, DeliveriesSeenReporter],
        },
      ],
      exports: [GitlabWebhookController],
    };
  }
}
