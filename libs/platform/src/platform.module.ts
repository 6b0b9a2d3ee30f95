import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';

import { STREAMS, type StreamDefinition } from '@testkase/contracts';
import { jitteredBackoff, sleep } from '@testkase/util';

import { ADMIN_API_TOKEN, AdminApiGuard } from './admin/admin-api.guard';
import { DeadLetterAdmin } from './admin/dead-letters';
import { DeadLettersAdminController } from './admin/dead-letters.controller';
import { ADMIN_OUTBOX_SCHEMA, OutboxParkedAdminController } from './admin/outbox-parked.controller';
import type { ServiceConfig } from './config/base.config';
import { createDataSource, type DatabaseSettings } from './database/data-source.factory';
import { HealthController } from './health/health.controller';
import { READINESS_CHECKS, within, type ReadinessCheck } from './health/readiness';
import { CORE_API_TOKEN, CoreApiGuard } from './http/core-api.guard';
import { ConsumerRegistry } from './messaging/consumer-registry';
import { EventPublisher } from './messaging/event-publisher';
import { Inbox } from './messaging/inbox';
import { InboxOutbox } from './messaging/inbox-outbox';
import {
  DEFAULT_JETSTREAM_SETTINGS,
  ensureStreams,
  verifyStreams,
  type JetStreamSettings,
} from './messaging/jetstream-setup';
import { MessagingRetention } from './messaging/messaging-retention';
import { NatsClient } from './messaging/nats-client';
import { Outbox } from './messaging/outbox';
import { OutboxRelay } from './messaging/outbox-relay';
import type { Logger } from './telemetry/logger';
import { MetricsRegistry } from './telemetry/metrics';
import { MetricsController } from './telemetry/metrics.controller';
import { poolOfDataSource, registerPoolMetrics } from './telemetry/pool-metrics';

export const LOGGER = Symbol('LOGGER');
export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');

export interface PlatformOptions {
  /** e.g. `requirement-sync`; names logs, metrics, NATS connections and CloudEvents sources. */
  service: string;
  logger: Logger;
  /** The accepted core API tokens (CORE_API_TOKEN, a list while one is rotated). */
  coreApiToken?: string | readonly string[];
  /**
   * The accepted admin API tokens (ADMIN_API_TOKEN); none turns every `/admin/v1/...` route off
   * (404). The platform serves the dead letters (with NATS) and parked outbox rows (with a
   * database) there; apps add their own admin controllers behind {@link AdminApiGuard}.
   */
  adminApiToken?: string | readonly string[];
  database?: Omit<DatabaseSettings, 'applicationName'> & {
    /**
     * Whether the app can serve without its database (the gateway can: it spools only when NATS
     * is down). Required databases are connected before the app listens.
     */
    optional?: boolean;
  };
  nats?: {
    url: string;
    prefix: string;
    streams: readonly StreamDefinition[];
    credsFile?: string;
    tlsCaFile?: string;
    /** Stream and bucket settings, and who manages them (JETSTREAM_*). Default: R1, managed here. */
    jetstream?: JetStreamSettings;
  };
  /** Publish the schema's outbox (apps that emit events). */
  outbox?: boolean;
  /** `all` (default): ready when every check passes. `any`: when at least one does. */
  readiness?: 'all' | 'any';
  extraReadinessChecks?: ReadinessCheck[];
}

/** Whether the process has started to shut down (readiness turns 503 at once). */
@Injectable()
export class ShutdownState {
  shuttingDown = false;
}

/**
 * Connects the app's DataSource at start, in the background and retrying, so that an app starts
 * (and answers what it can) while Postgres is down. `connect()` resolves once connected.
 */
@Injectable()
export class DatabaseConnector {
  private connecting?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Connects, retrying with backoff; resolves when connected. */
  connect(): Promise<void> {
    this.connecting ??= (async () => {
      for (let attempt = 0; !this.dataSource.isInitialized; attempt += 1) {
        try {
          await this.dataSource.initialize();
          this.logger.info('database connected');
        } catch (error) {
          this.logger.warn({ err: error, attempt }, 'database not reachable; retrying');
          await sleep(jitteredBackoff(attempt, 250, 5_000, 250));
        }
      }
    })();
    return this.connecting;
  }
}

@Injectable()
class PlatformLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(PLATFORM_OPTIONS) private readonly options: PlatformOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly shutdown: ShutdownState,
    private readonly dataSource: DataSource | null,
    private readonly connector: DatabaseConnector | null,
    private readonly nats: NatsClient | null,
    private readonly consumers: ConsumerRegistry | null,
    private readonly relay: OutboxRelay | null,
    private readonly retention: MessagingRetention | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.connector) {
      const connecting = this.connector.connect();
      if (!this.options.database?.optional) await connecting;
    }
    if (this.nats && this.options.nats) {
      const nats = this.nats;
      const streams = this.options.nats.streams;
      const settings = this.options.nats.jetstream ?? DEFAULT_JETSTREAM_SETTINGS;
      let consumersStarted = false;
      let settingUp = false;
      // On the first connect and on every reconnect (the server may have lost its state), retrying
      // until the streams exist (JETSTREAM_MANAGE=false: until setup-jetstream has created them).
      nats.onConnected(() => {
        if (settingUp) return;
        settingUp = true;
        void (async () => {
          for (let attempt = 0; !this.shutdown.shuttingDown; attempt += 1) {
            try {
              if (settings.manage) await ensureStreams(nats.jsm, nats.naming, streams, settings, this.logger);
              else await verifyStreams(nats.jsm, nats.naming, streams);
              if (!consumersStarted && this.consumers) {
                consumersStarted = true;
                await this.consumers.startAll();
              }
              break;
            } catch (error) {
              this.logger.error({ err: error, attempt }, 'JetStream setup failed; retrying');
              await sleep(jitteredBackoff(attempt, 1_000, 15_000, 500));
            }
          }
          settingUp = false;
        })();
      });
    }
    this.relay?.start();
    this.retention?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.shuttingDown = true;
    await this.consumers?.stopAll();
    await this.relay?.stop();
    await this.retention?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nats?.close();
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    this.logger.info('stopped');
  }
}

/**
 * The thin platform every app imports once: logger, metrics, database, NATS with streams,
 * consumers, outbox/inbox, health and metrics endpoints, and the graceful shutdown order
 * (stop consuming → finish HTTP → close NATS and the database).
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: PLATFORM_OPTIONS, useValue: options },
      { provide: LOGGER, useValue: options.logger },
      { provide: MetricsRegistry, useValue: new MetricsRegistry(options.service) },
      {
        provide: CORE_API_TOKEN,
        useValue: ([] as string[]).concat(options.coreApiToken ?? []).filter(Boolean),
      },
      CoreApiGuard,
      {
        provide: ADMIN_API_TOKEN,
        useValue: ([] as string[]).concat(options.adminApiToken ?? []).filter(Boolean),
      },
      AdminApiGuard,
      ShutdownState,
    ];
    const controllers: Array<new (...args: never[]) => unknown> = [HealthController, MetricsController];
    const exported: Array<Provider | symbol | string | (abstract new (...args: never[]) => unknown)> = [
      LOGGER,
      MetricsRegistry,
      CORE_API_TOKEN,
      CoreApiGuard,
      ADMIN_API_TOKEN,
      AdminApiGuard,
      ShutdownState,
    ];

    const database = options.database;
    if (database) {
      providers.push(
        {
          provide: DataSource,
          useFactory: (metrics: MetricsRegistry) => {
            const dataSource = createDataSource({ ...database, applicationName: options.service });
            registerPoolMetrics(metrics, () => poolOfDataSource(dataSource));
            return dataSource;
          },
          inject: [MetricsRegistry],
        },
        DatabaseConnector,
        { provide: Inbox, useFactory: () => new Inbox(database.schema) },
        { provide: InboxOutbox, useFactory: () => new InboxOutbox(database.schema) },
        {
          provide: Outbox,
          useFactory: () => new Outbox(database.schema, `testkase-gitlab/${options.service}`),
        },
        {
          // Inbox and outbox retention for every app with a database (leader-elected, off the relay).
          provide: MessagingRetention,
          useFactory: (logger: Logger, metrics: MetricsRegistry) =>
            new MessagingRetention(
              {
                databaseUrl: database.url,
                schema: database.schema,
                applicationName: `${options.service}-retention`,
              },
              logger,
              metrics,
            ),
          inject: [LOGGER, MetricsRegistry],
        },
      );
      exported.push(DataSource, DatabaseConnector, Inbox, InboxOutbox, Outbox);
      providers.push({ provide: ADMIN_OUTBOX_SCHEMA, useValue: database.schema });
      controllers.push(OutboxParkedAdminController);
    } else {
      providers.push(
        { provide: DataSource, useValue: null },
        { provide: DatabaseConnector, useValue: null },
        { provide: MessagingRetention, useValue: null },
      );
    }

    const nats = options.nats;
    if (nats) {
      providers.push(
        {
          provide: NatsClient,
          useFactory: (logger: Logger, metrics: MetricsRegistry) =>
            new NatsClient(
              {
                servers: nats.url,
                name: options.service,
                prefix: nats.prefix,
                credsFile: nats.credsFile,
                tlsCaFile: nats.tlsCaFile,
                jetstream: nats.jetstream,
              },
              logger,
              metrics,
            ),
          inject: [LOGGER, MetricsRegistry],
        },
        {
          provide: EventPublisher,
          useFactory: (client: NatsClient) => new EventPublisher(client),
          inject: [NatsClient],
        },
        {
          provide: ConsumerRegistry,
          useFactory: (client: NatsClient, logger: Logger, metrics: MetricsRegistry) =>
            new ConsumerRegistry(client, logger, metrics),
          inject: [NatsClient, LOGGER, MetricsRegistry],
        },
      );
      providers.push({
        provide: DeadLetterAdmin,
        useFactory: (client: NatsClient, registry: ConsumerRegistry) =>
          new DeadLetterAdmin(client, () => registry.durables),
        inject: [NatsClient, ConsumerRegistry],
      });
      controllers.push(DeadLettersAdminController);
      exported.push(NatsClient, EventPublisher, ConsumerRegistry);
    } else {
      providers.push({ provide: NatsClient, useValue: null }, { provide: ConsumerRegistry, useValue: null });
    }

    if (options.outbox && database && nats) {
      providers.push({
        provide: OutboxRelay,
        useFactory: (client: NatsClient, logger: Logger, metrics: MetricsRegistry) =>
          new OutboxRelay(
            {
              databaseUrl: database.url,
              schema: database.schema,
              applicationName: `${options.service}-outbox`,
            },
            client,
            logger,
            metrics,
          ),
        inject: [NatsClient, LOGGER, MetricsRegistry],
      });
      exported.push(OutboxRelay);
    } else {
      providers.push({ provide: OutboxRelay, useValue: null });
    }

    providers.push(
      {
        provide: READINESS_CHECKS,
        useFactory: (shutdown: ShutdownState, dataSource: DataSource | null, client: NatsClient | null) =>
          readinessChecks(options, shutdown, dataSource, client),
        inject: [ShutdownState, DataSource, NatsClient],
      },
      {
        provide: PlatformLifecycle,
        useFactory: (...deps: ConstructorParameters<typeof PlatformLifecycle>) =>
          new PlatformLifecycle(...deps),
        inject: [
          PLATFORM_OPTIONS,
          LOGGER,
          ShutdownState,
          DataSource,
          DatabaseConnector,
          NatsClient,
          ConsumerRegistry,
          OutboxRelay,
          MessagingRetention,
        ],
      },
    );

    return {
      module: PlatformModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers,
      providers,
      exports: exported,
    };
  }
}

function readinessChecks(
  options: PlatformOptions,
  shutdown: ShutdownState,
  dataSource: DataSource | null,
  nats: NatsClient | null,
): ReadinessCheck[] {
  const dependencies: ReadinessCheck[] = [];
  if (dataSource) {
    dependencies.push({
      name: 'database',
      probe: async () => {
        if (!dataSource.isInitialized) return { up: false, detail: 'not connected' };
        const ok = await within(
          dataSource.query('SELECT 1').then(
            () => true,
            () => false,
          ),
          1_000,
          false,
        );
        return ok ? { up: true } : { up: false, detail: 'SELECT 1 failed or took over 1 s' };
      },
    });
  }
  if (nats) {
    dependencies.push({
      name: 'nats',
      probe: async () =>
        (await nats.ping(1_000))
          ? { up: true }
          : { up: false, detail: 'no round trip to the NATS server within 1 s' },
    });
  }
  dependencies.push(...(options.extraReadinessChecks ?? []));

  const combined: ReadinessCheck[] =
    options.readiness === 'any' && dependencies.length > 1
      ? [
          {
            name: 'dependencies',
            probe: async () => {
              const results = await Promise.all(
                dependencies.map(async (d) => ({ name: d.name, ...(await d.probe()) })),
              );
              const info = Object.fromEntries(
                results.map((r) => [r.name, r.up ? 'up' : (r.detail ?? 'down')]),
              );
              return results.some((r) => r.up)
                ? { up: true, info }
                : { up: false, detail: JSON.stringify(info) };
            },
          },
        ]
      : dependencies;

  return [
    {
      name: 'process',
      probe: async () => (shutdown.shuttingDown ? { up: false, detail: 'shutting down' } : { up: true }),
    },
    ...combined,
  ];
}

/** The JetStream settings of an app's config (JETSTREAM_*). */
export const jetstreamFromConfig = (
  config: Pick<
    ServiceConfig,
    'JETSTREAM_REPLICAS' | 'JETSTREAM_MAX_BYTES' | 'JETSTREAM_MAX_AGE' | 'JETSTREAM_MANAGE'
  >,
): JetStreamSettings => ({
  replicas: config.JETSTREAM_REPLICAS,
  maxBytes: config.JETSTREAM_MAX_BYTES,
  maxAgeMs: config.JETSTREAM_MAX_AGE,
  manage: config.JETSTREAM_MANAGE,
});

/** The NATS part of {@link PlatformOptions} from an app's config (every stream declared by default). */
export function natsFromConfig(
  config: Pick<
    ServiceConfig,
    | 'NATS_URL'
    | 'NATS_PREFIX'
    | 'NATS_CREDS_FILE'
    | 'NATS_TLS_CA_FILE'
    | 'JETSTREAM_REPLICAS'
    | 'JETSTREAM_MAX_BYTES'
    | 'JETSTREAM_MAX_AGE'
    | 'JETSTREAM_MANAGE'
  >,
  streams: readonly StreamDefinition[] = Object.values(STREAMS),
): NonNullable<PlatformOptions['nats']> {
  return {
    url: config.NATS_URL,
    prefix: config.NATS_PREFIX,
    streams,
    credsFile: config.NATS_CREDS_FILE,
    tlsCaFile: config.NATS_TLS_CA_FILE,
    jetstream: jetstreamFromConfig(config),
  };
}
