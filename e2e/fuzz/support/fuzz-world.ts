import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';

import { KV_BUCKETS, RPC, type WebhookVerifierReply } from '@testkase/contracts';
import {
  createSimProject,
  freePort,
  NatsProbe,
  SIM_ACCESS,
  TestStack,
  WORKSPACE_ROOT,
  type AppName,
  type SimProject,
} from '@testkase/testing';

export type CoreApp = 'connection-service' | 'requirement-sync' | 'defect-sync' | 'comment-relay';
export const CORE_APPS: readonly CoreApp[] = [
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
];

/** A TestKase project connected to its own GitLab project in the simulator. */
export interface ConnectedProject {
  readonly projectId: string;
  readonly connectionId: string;
  readonly gitlab: SimProject;
  /** The webhook secret (X-Gitlab-Token) of a manual hook, shown once in the connect answer. */
  readonly hookSecret?: string;
  readonly requirementIds: string[];
}

const STREAMS = ['GITLAB_EVENTS', 'INTEGRATION', 'TESTKASE_EVENTS', 'DEAD_LETTERS'] as const;

/**
 * The whole system for the fuzz suite: every app, three connected projects (one managed hook,
 * signed; two manual hooks, whose secrets the test knows), every secret the run handed out, and
 * what the "no secret in clear" check reads (logs, database, NATS, answers).
 */
export class FuzzWorld {
  /** Every secret given to or made by the system in this run. */
  readonly secrets = new Set<string>();
  /** Every answer body the fuzz saw (searched for secrets at the end). */
  readonly answers: string[] = [];

  private constructor(
    readonly stack: TestStack,
    readonly grpcPorts: Record<CoreApp, number>,
    readonly probe: NatsProbe,
    readonly nc: NatsConnection,
    readonly db: Client,
    readonly label: string,
  ) {}

  static async start(label: string): Promise<FuzzWorld> {
    const stack = await TestStack.start({ label, apps: ['webhook-gateway'] });
    const grpcPorts = {} as Record<CoreApp, number>;
    try {
      // Each gRPC port is chosen right before its app starts (and again if it was taken meanwhile):
      // other test files start apps on free ports too.
      for (const app of CORE_APPS) {
        for (let attempt = 1; ; attempt += 1) {
          grpcPorts[app] = await freePort();
          try {
            await stack.startApp(app, { GRPC_PORT: String(grpcPorts[app]) });
            break;
          } catch (error) {
            if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
          }
        }
      }
    } catch (error) {
      await stack.stop();
      throw error;
    }
    try {
      const probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
      const nc = await connect({ servers: stack.environment.natsUrl, name: 'fuzz-test' });
      const db = new Client({ connectionString: stack.environment.databaseUrl });
      await db.connect();
      const world = new FuzzWorld(stack, grpcPorts, probe, nc, db, label);
      world.secrets.add(stack.coreToken);
      return world;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  url(app: AppName): string {
    return this.stack.url(app);
  }

  /**
   * Connects `projectId` to a new GitLab project with a few issues: as Maintainer (managed,
   * signed hook) or as Reporter (manual hook: the answer carries the secret).
   */
  async connectProject(projectId: string, role: 'maintainer' | 'reporter'): Promise<ConnectedProject> {
    const gitlab = await createSimProject(this.url('gitlab-sim'), { issues: { count: 3 } });
    this.secrets.add(gitlab.token);
    let token = gitlab.token;
    if (role === 'reporter') {
      const username = `reporter-${projectId}`.toLowerCase();
      await gitlab.sim.createUser({ username, name: 'Reporter' });
      token = (await gitlab.sim.createToken({ username, scopes: ['api'] })).token;
      this.secrets.add(token);
      await gitlab.sim.addMember({ project: gitlab.id, username, accessLevel: SIM_ACCESS.reporter });
    }
    const answer = await this.stack.core<Record<string, unknown>>(
      'connection-service',
      'PUT',
      `/v1/projects/${projectId}/connection`,
      { platform: 'gitlab', instanceUrl: this.url('gitlab-sim'), projectRef: gitlab.path, token },
    );
    if (answer.status !== 200)
      throw new Error(`connect ${projectId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    const connectionId = String(answer.body['connectionId']);
    const hookSecret = (answer.body['webhookSetup'] as { secret?: string } | undefined)?.secret;
    if (hookSecret) this.secrets.add(hookSecret);
    if (role === 'maintainer') {
      // The signing key the gateway fetches: a secret that must not show anywhere either.
      const reply = await this.request<WebhookVerifierReply>(RPC.webhookVerifier, { connectionId });
      if (reply.ok && reply.signingKey) this.secrets.add(reply.signingKey);
    }
    const requirementIds = await this.requirementIdsOf(projectId, 3);
    return { projectId, connectionId, gitlab, hookSecret, requirementIds };
  }

  private async requirementIdsOf(projectId: string, count: number): Promise<string[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answer = await this.stack.core<{ items?: Array<{ id: string }> }>(
        'requirement-sync',
        'GET',
        `/v1/projects/${projectId}/requirements?limit=100`,
      );
      const ids = (answer.body.items ?? []).map((item) => item.id);
      if (ids.length >= count) return ids;
      if (Date.now() > deadline) throw new Error(`backfill of ${projectId}: ${JSON.stringify(answer.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async request<T>(subject: string, payload: unknown): Promise<T> {
    const reply = await this.nc.request(
      `${this.stack.environment.natsPrefix}.${subject}`,
      JSON.stringify(payload),
      {
        timeout: 5_000,
      },
    );
    return reply.json<T>();
  }

  record(text: string): void {
    this.answers.push(text);
  }

  /** How many messages each stream of the environment holds now. */
  async streamCounts(): Promise<Record<string, number>> {
    const jsm = await this.nc.jetstreamManager();
    const counts: Record<string, number> = {};
    for (const stream of STREAMS) {
      const info = await jsm.streams.info(this.probe.stream(stream)).catch(() => null);
      counts[stream] = info ? info.state.messages : 0;
    }
    return counts;
  }

  /** Every process of the stack is still running and answers /health/live. */
  async deadOrUnwell(): Promise<string[]> {
    const problems: string[] = [];
    for (const [name, app] of this.stack.apps) {
      const exited = await Promise.race([app.exited.then(() => true), Promise.resolve(false)]);
      if (exited) {
        problems.push(`${name} exited`);
        continue;
      }
      const live = await fetch(`${app.url}/health/live`, { signal: AbortSignal.timeout(5_000) })
        .then((response) => response.status)
        .catch((error: Error) => error.message);
      if (live !== 200) problems.push(`${name} /health/live: ${live}`);
    }
    return problems;
  }

  /** The log files of the product apps in tmp/test-logs (the simulator is not part of the product). */
  logText(): string {
    const dir = path.join(
      WORKSPACE_ROOT,
      'tmp',
      'test-logs',
      `${this.label}-${this.stack.environment.natsPrefix}`,
    );
    const parts = [...this.stack.apps.values()]
      .filter((app) => app.name !== 'gitlab-sim')
      .map((app) => app.logs());
    if (existsSync(dir)) {
      for (const file of readdirSync(dir)) {
        if (file.endsWith('.log') && file !== 'gitlab-sim.log')
          parts.push(readFileSync(path.join(dir, file), 'utf8'));
      }
    }
    return parts.join('\n');
  }

  /** Every value of every text, JSON, array and bytea column of every schema of the database. */
  async databaseText(): Promise<string> {
    const { rows: columns } = await this.db.query<{
      table_schema: string;
      table_name: string;
      column_name: string;
    }>(
      `SELECT c.table_schema, c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE t.table_type = 'BASE TABLE'
          AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
          AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'ARRAY', 'bytea', 'USER-DEFINED')`,
    );
    const parts: string[] = [];
    for (const { table_schema, table_name, column_name } of columns) {
      const { rows } = await this.db.query<{ raw: unknown; value: string | null }>(
        `SELECT "${column_name}" AS raw, "${column_name}"::text AS value FROM "${table_schema}"."${table_name}"`,
      );
      for (const row of rows) {
        if (row.value) parts.push(row.value);
        // bytea: its bytes as they are, not only Postgres' hex text.
        if (Buffer.isBuffer(row.raw)) parts.push(row.raw.toString('latin1'), row.raw.toString('utf8'));
      }
    }
    return parts.join('\n');
  }

  /** Every message (body and headers) on every stream of the environment, and the verifier bucket. */
  async natsText(): Promise<string> {
    const parts: string[] = [];
    for (const stream of STREAMS) {
      for (const message of await this.probe.read(stream, '>')) {
        parts.push(Buffer.from(message.raw).toString('utf8'), JSON.stringify(message.headers));
      }
    }
    const kv = await this.nc.jetstream().views.kv(this.probe.stream(KV_BUCKETS.webhookVerifiers));
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry) parts.push(entry.string());
    }
    return parts.join('\n');
  }

  async stop(): Promise<void> {
    await this.db.end().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await this.probe.close().catch(() => undefined);
    await this.stack.stop();
  }
}
