import path from 'node:path';

import { migrateApp, startApp, WORKSPACE_ROOT, type AppName, type RunningApp } from './app-process';
import { createTestEnvironment, TEST_CORE_API_TOKEN, type TestEnvironment } from './environment';

export interface StackOptions {
  /** Apps to run besides the simulator (which always runs). Default: gateway, connection-service, requirement-sync. */
  apps?: Exclude<AppName, 'gitlab-sim'>[];
  /** Extra environment per app (or for all with `*`). */
  env?: Partial<Record<AppName | '*', Record<string, string>>>;
  /** Label for the database name and the log folder. */
  label?: string;
  /** Reuse an environment (e.g. to restart a stack on the same database). */
  environment?: TestEnvironment;
  /** Node's command-line options of every app (StartOptions.nodeArgs). */
  nodeArgs?: readonly string[];
}

/**
 * The whole system as it runs in production, against the local Postgres and NATS: the GitLab
 * simulator, then the gateway (its URL is the public webhook base), then the other apps, each
 * migrated and ready. Tests talk to it only over HTTP, webhooks and NATS.
 */
export class TestStack {
  private constructor(
    readonly environment: TestEnvironment,
    readonly apps: Map<AppName, RunningApp>,
    private readonly options: StackOptions,
    private readonly logDir: string,
    private readonly ownsEnvironment: boolean,
    /** Further instances of apps (startReplica), besides the one in `apps`. */
    readonly replicas: RunningApp[] = [],
  ) {}

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const label = options.label ?? 'e2e';
    const environment = options.environment ?? (await createTestEnvironment(label));
    const logDir = path.join(WORKSPACE_ROOT, 'tmp', 'test-logs', `${label}-${environment.natsPrefix}`);
    const stack = new TestStack(environment, new Map(), options, logDir, !options.environment);
    try {
      await stack.startApp('gitlab-sim');
      const apps = options.apps ?? ['webhook-gateway', 'connection-service', 'requirement-sync'];
      const ordered = [...apps].sort((a, b) =>
        a === 'webhook-gateway' ? -1 : b === 'webhook-gateway' ? 1 : 0,
      );
      for (const app of ordered) await stack.startApp(app);
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  /** Environment an app gets in this stack. */
  envFor(app: AppName): Record<string, string> {
    const sim = this.apps.get('gitlab-sim');
    const gateway = this.apps.get('webhook-gateway');
    const common: Record<string, string> = {
      ...this.environment.baseEnv,
      ...(gateway ? { PUBLIC_WEBHOOK_BASE_URL: gateway.url } : {}),
      ...(sim ? { TEST_GITLAB_URL: sim.url } : {}),
    };
    if (app === 'gitlab-sim') {
      return {
        GITLAB_SIM_SEED_DEMO: 'false',
        LOG_LEVEL: 'warn',
        ...this.options.env?.['*'],
        ...this.options.env?.[app],
      };
    }
    return { ...common, ...this.options.env?.['*'], ...this.options.env?.[app] };
  }

  /** Migrates (if the app has a schema) and starts `app`; replaces a stopped instance. */
  async startApp(app: AppName, extraEnv: Record<string, string> = {}): Promise<RunningApp> {
    const env = { ...this.envFor(app), ...extraEnv };
    if (app !== 'gitlab-sim') await migrateApp(app, env);
    const running = await startApp(app, {
      env,
      logDir: this.logDir,
      ...(this.options.nodeArgs ? { nodeArgs: this.options.nodeArgs } : {}),
      waitFor: app === 'gitlab-sim' ? 'live' : 'ready',
    });
    this.apps.set(app, running);
    return running;
  }

  /**
   * Starts one more instance of a running app on the same database and NATS prefix (another
   * replica, as in production), with `extraEnv` on top of the app's; it is stopped with the stack.
   * The app must already run (its migrations are done); give it a free `GRPC_PORT` if the app's
   * own is fixed.
   */
  async startReplica(
    app: Exclude<AppName, 'gitlab-sim'>,
    extraEnv: Record<string, string> = {},
  ): Promise<RunningApp> {
    this.app(app);
    const running = await startApp(app, {
      env: { ...this.envFor(app), ...extraEnv },
      logDir: path.join(this.logDir, `replica-${this.replicas.length + 1}`),
      ...(this.options.nodeArgs ? { nodeArgs: this.options.nodeArgs } : {}),
      waitFor: 'ready',
    });
    this.replicas.push(running);
    return running;
  }

  app(name: AppName): RunningApp {
    const running = this.apps.get(name);
    if (!running) throw new Error(`${name} is not running in this stack`);
    return running;
  }

  url(name: AppName): string {
    return this.app(name).url;
  }

  get coreToken(): string {
    return TEST_CORE_API_TOKEN;
  }

  /** Calls the TestKase-core API of an app with the core token. */
  async core<T = unknown>(
    app: AppName,
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(`${this.url(app)}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_CORE_API_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  /** Every line every app of the stack has logged. */
  allLogs(): string {
    return [...this.apps.values(), ...this.replicas].map((app) => app.logs()).join('\n');
  }

  async stop(): Promise<void> {
    const running = [...this.replicas.splice(0), ...[...this.apps.values()].reverse()];
    await Promise.all(running.map((app) => app.stop('SIGTERM').catch(() => undefined)));
    this.apps.clear();
    if (this.ownsEnvironment) await this.environment.dispose().catch(() => undefined);
  }
}
