import path from 'node:path';

import { ensureDatabase } from '@testkase/platform';
import {
  PrivateNatsCluster,
  PrivatePostgres,
  SERVICE_NAMES,
  startApp,
  TEST_CORE_API_TOKEN,
  TEST_TOKEN_ENCRYPTION_KEYS,
  TestStack,
  WORKSPACE_ROOT,
  type AppName,
  type RunningApp,
  type TestEnvironment,
} from '@testkase/testing';

import { Balancer } from './balancer';

export const SERVICES = SERVICE_NAMES;
export type Service = (typeof SERVICES)[number];

/** One replica of a service: `<app>#<n>`, restarted in place after a kill. */
export interface Replica {
  readonly id: string;
  readonly app: Service;
  running: RunningApp | undefined;
}

/**
 * The soak's short schedules: sweeps every few seconds so that reconciliation repairs what the
 * dropped deliveries missed within the settle time (each app's README, "Configuration").
 */
const APP_ENV: Partial<Record<Service, Record<string, string>>> = {
  'connection-service': { HEALTH_CHECK_INTERVAL: '15s' },
  'requirement-sync': {
    RECONCILE_INTERVAL: '10s',
    SYNC_SCHEDULER_TICK: '500ms',
    DELETION_CHECK_INTERVAL: '1h',
  },
  'defect-sync': { RECONCILE_INTERVAL: '10s', SYNC_SCHEDULER_TICK: '500ms', RETRY_MAX_INTERVAL: '5s' },
  'comment-relay': {
    RECONCILE_INTERVAL: '10s',
    SYNC_SCHEDULER_TICK: '500ms',
    RETRY_MAX_INTERVAL: '5s',
  },
};

/**
 * The production topology on loopback: a 3-node NATS cluster (streams and buckets at R3), a
 * Postgres of the soak's own, gitlab-sim, a balancer in front of the gateways, and two replicas of
 * every service, each of which can be killed and restarted.
 */
export class Topology {
  readonly replicas: Replica[] = [];
  private stopping = false;

  private constructor(
    readonly sim: RunningApp,
    readonly postgres: PrivatePostgres,
    readonly nats: PrivateNatsCluster,
    readonly balancer: Balancer,
    readonly stack: TestStack,
    readonly logDir: string,
  ) {}

  static async start(label: string, rateLimits: string, onStep: (step: string) => void): Promise<Topology> {
    const cleanups: Array<() => Promise<void>> = [];
    try {
      onStep('postgres');
      const postgres = await PrivatePostgres.start();
      cleanups.push(() => postgres.dispose());
      onStep('nats cluster');
      const nats = await PrivateNatsCluster.start(3);
      cleanups.push(() => nats.dispose());
      const balancer = await Balancer.start();
      cleanups.push(() => balancer.stop());
      const databaseUrl = postgres.url('soak');
      await ensureDatabase(databaseUrl);
      const environment: TestEnvironment = {
        databaseUrl,
        natsUrl: nats.urls,
        natsPrefix: '',
        baseEnv: {
          DATABASE_URL: databaseUrl,
          NATS_URL: nats.urls,
          CORE_API_TOKEN: TEST_CORE_API_TOKEN,
          TOKEN_ENCRYPTION_KEYS: TEST_TOKEN_ENCRYPTION_KEYS,
          GITLAB_ALLOW_PRIVATE_NETWORK: 'true',
          LOG_LEVEL: 'info',
          HOST: '127.0.0.1',
          DB_POOL_SIZE: '5',
          GRPC_PORT: '0',
          JETSTREAM_REPLICAS: '3',
          GITLAB_RATE_LIMITS: rateLimits,
          PUBLIC_WEBHOOK_BASE_URL: balancer.url,
          OTEL_SDK_DISABLED: 'true',
        },
        // The servers are the soak's own: Topology.stop removes them whole.
        dispose: async () => undefined,
      };
      onStep('services');
      const stack = await TestStack.start({
        label,
        environment,
        apps: [...SERVICES],
        env: { ...APP_ENV, '*': { PUBLIC_WEBHOOK_BASE_URL: balancer.url } },
      });
      cleanups.push(() => stack.stop());
      const logDir = path.join(WORKSPACE_ROOT, 'tmp', 'soak-logs', label);
      const topology = new Topology(stack.app('gitlab-sim'), postgres, nats, balancer, stack, logDir);
      for (const app of SERVICES) {
        topology.replicas.push({ id: `${app}#1`, app, running: stack.app(app) });
      }
      onStep('second replicas');
      for (const app of SERVICES) {
        const replica: Replica = { id: `${app}#2`, app, running: undefined };
        topology.replicas.push(replica);
        await topology.startReplica(replica);
      }
      balancer.set('webhook-gateway#1', stack.app('webhook-gateway').port);
      return topology;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  /**
   * (Re)starts a replica on the same database and NATS, and puts a gateway back behind the
   * balancer. A start that fails (Postgres or NATS away at that moment) is tried again with a
   * growing back-off, as Kubernetes restarts a crashing pod, until the topology stops.
   */
  async startReplica(replica: Replica, onRetry?: (error: unknown) => void): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt += 1) {
      try {
        replica.running = await startApp(replica.app, {
          env: this.stack.envFor(replica.app),
          logDir: path.join(this.logDir, replica.id.replace('#', '-')),
          waitFor: 'ready',
          timeoutMs: 90_000,
        });
        if (replica.app === 'webhook-gateway') this.balancer.set(replica.id, replica.running.port);
        return;
      } catch (error) {
        onRetry?.(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1_000 * 2 ** attempt)));
      }
    }
  }

  /** kill -9 of a replica (its gateway out of the balancer first, as a failing readiness probe would not be). */
  async killReplica(replica: Replica): Promise<void> {
    const running = replica.running;
    replica.running = undefined;
    await running?.kill();
    if (replica.app === 'webhook-gateway') this.balancer.remove(replica.id);
  }

  live(app: Service): RunningApp[] {
    return this.replicas
      .filter((replica) => replica.app === app && replica.running)
      .map((replica) => replica.running!);
  }

  /** Every running process of the soak's services, with its replica id. */
  processes(): Array<{ id: string; app: AppName; pid: number; url: string }> {
    const out = this.replicas
      .filter((replica) => replica.running)
      .map((replica) => ({
        id: replica.id,
        app: replica.app as AppName,
        pid: replica.running!.pid,
        url: replica.running!.url,
      }));
    const sim = this.sim;
    return [...out, { id: 'gitlab-sim', app: 'gitlab-sim', pid: sim.pid, url: sim.url }];
  }

  /** Stops everything the soak started and removes the NATS stores and the Postgres cluster. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.replicas.map((replica) => replica.running?.stop('SIGTERM', 10_000).catch(() => undefined)),
    );
    await this.stack.stop().catch(() => undefined);
    await this.balancer.stop().catch(() => undefined);
    await this.nats.dispose().catch(() => undefined);
    await this.postgres.dispose().catch(() => undefined);
  }
}
