import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';

import {
  KV_BUCKETS,
  RPC,
  type CredentialsReply,
  type WebhookVerifierReply,
  type WebhookVerifierV1,
} from '@testkase/contracts';
import {
  GitlabSimClient,
  NatsProbe,
  SIM_ACCESS,
  type SimAccessLevel,
  type TestStack,
} from '@testkase/testing';

/** Responses a test saw, kept for the "no token anywhere" search at the end of a file. */
export class ResponseLog {
  readonly bodies: string[] = [];

  record<T extends { body: unknown }>(response: T): T {
    this.bodies.push(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
    return response;
  }

  text(): string {
    return this.bodies.join('\n');
  }
}

/** Everything a connection-service test reads besides HTTP: the database, NATS and the simulator. */
export class ConnectionTestKit {
  readonly sim: GitlabSimClient;
  readonly responses = new ResponseLog();

  private constructor(
    readonly stack: TestStack,
    readonly db: Client,
    readonly nc: NatsConnection,
    readonly probe: NatsProbe,
  ) {
    this.sim = new GitlabSimClient(stack.url('gitlab-sim'));
  }

  static async open(stack: TestStack): Promise<ConnectionTestKit> {
    const db = new Client({ connectionString: stack.environment.databaseUrl });
    await db.connect();
    const nc = await connect({ servers: stack.environment.natsUrl, name: 'connection-service-test' });
    const probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    return new ConnectionTestKit(stack, db, nc, probe);
  }

  get prefix(): string {
    return this.stack.environment.natsPrefix;
  }

  get simUrl(): string {
    return this.sim.baseUrl;
  }

  /** Calls connection-service's core API and keeps the answer for the final secret search. */
  async api<T = Record<string, unknown>>(method: string, route: string, body?: unknown) {
    return this.responses.record(await this.stack.core<T>('connection-service', method, route, body));
  }

  connect(projectId: string, body: Record<string, unknown>) {
    return this.api('PUT', `/v1/projects/${projectId}/connection`, {
      platform: 'gitlab',
      instanceUrl: this.simUrl,
      ...body,
    });
  }

  async rows(projectId: string): Promise<Array<Record<string, unknown>>> {
    return (
      await this.db.query('SELECT * FROM connection.connections WHERE project_id = $1 ORDER BY created_at', [
        projectId,
      ])
    ).rows;
  }

  async request<T>(subject: string, payload: unknown): Promise<T> {
    const reply = await this.nc.request(`${this.prefix}.${subject}`, JSON.stringify(payload), {
      timeout: 5_000,
    });
    return reply.json<T>();
  }

  credentials(connectionId: string): Promise<CredentialsReply> {
    return this.request(RPC.connectionCredentials, { connectionId });
  }

  webhookVerifier(connectionId: string): Promise<WebhookVerifierReply> {
    return this.request(RPC.webhookVerifier, { connectionId });
  }

  /** The gateway's view: the WEBHOOK_VERIFIERS entry of a connection. */
  async verifierEntry(connectionId: string): Promise<WebhookVerifierV1 | null> {
    const kv = await this.nc.jetstream().views.kv(`${this.prefix}_${KV_BUCKETS.webhookVerifiers}`);
    const entry = await kv.get(connectionId);
    return entry && entry.operation === 'PUT' ? entry.json<WebhookVerifierV1>() : null;
  }

  /** Publishes a CloudEvent as another service would (through JetStream, with a message id). */
  async publishEvent(subject: string, type: string, data: unknown): Promise<string> {
    const id = crypto.randomUUID();
    const event = {
      specversion: '1.0',
      id,
      source: 'test',
      type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    await this.nc.jetstream().publish(`${this.prefix}.${subject}`, JSON.stringify(event), { msgID: id });
    return id;
  }

  /** Every value of every text-like column of the connection schema, as one string. */
  async databaseText(): Promise<string> {
    const columns = (
      await this.db.query(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'connection' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')`,
      )
    ).rows as Array<{ table_name: string; column_name: string }>;
    const parts: string[] = [];
    for (const { table_name, column_name } of columns) {
      const { rows } = await this.db.query(
        `SELECT "${column_name}"::text AS value FROM connection."${table_name}"`,
      );
      for (const row of rows as Array<{ value: string | null }>) if (row.value) parts.push(row.value);
    }
    return parts.join('\n');
  }

  /** Every message on every stream of this environment, raw. */
  async natsText(): Promise<string> {
    const parts: string[] = [];
    for (const stream of ['INTEGRATION', 'TESTKASE_EVENTS', 'DEAD_LETTERS', 'GITLAB_EVENTS']) {
      for (const message of await this.probe.read(stream, '>')) {
        parts.push(Buffer.from(message.raw).toString('utf8'), JSON.stringify(message.headers));
      }
    }
    return parts.join('\n');
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await this.probe.close().catch(() => undefined);
  }
}

export interface SeededUser {
  username: string;
  token: string;
}

/** A GitLab user with a token, a member of `project` at `accessLevel` (when given). */
export async function gitlabUser(
  sim: GitlabSimClient,
  username: string,
  options: {
    project?: string;
    group?: string;
    accessLevel?: SimAccessLevel;
    scopes?: string[];
    expiresAt?: string | null;
  } = {},
): Promise<SeededUser> {
  await sim.createUser({ username });
  const token = await sim.createToken({
    username,
    scopes: options.scopes ?? ['api'],
    expiresAt: options.expiresAt ?? null,
  });
  if (options.accessLevel !== undefined) {
    await sim.addMember({
      project: options.project,
      group: options.group,
      username,
      accessLevel: options.accessLevel,
    });
  }
  return { username, token: token.token };
}

export { SIM_ACCESS };

/** `YYYY-MM-DD`, `days` from today (UTC). */
export const dateInDays = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
