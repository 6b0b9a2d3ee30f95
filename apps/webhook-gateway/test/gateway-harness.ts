import 'reflect-metadata';

import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';

import { connect, type KV, type Msg, type NatsConnection, type Subscription } from 'nats';

import { KV_BUCKETS, RPC, type WebhookVerifierV1 } from '@testkase/contracts';
import {
  migrateApp,
  NatsProbe,
  startApp,
  type ReceivedMessage,
  type RunningApp,
  type TestEnvironment,
} from '@testkase/testing';

export const fixture = (name: string): Buffer => readFileSync(path.join(__dirname, 'fixtures/gitlab', name));

export interface ConnectionSetup {
  connectionId: string;
  secret: string;
  state?: 'active' | 'disconnected';
  /** `whsec_…` signing token: the hook is signed, and the fake connection-service hands out this key. */
  signingToken?: string;
  /** Write the verifier to the KV bucket (as connection-service does); false: known only over RPC. */
  inBucket?: boolean;
}

/** The gateway's environment; the test reaches the same NATS server under the same prefix. */
export type GatewayEnv = Record<string, string> & { NATS_URL: string; NATS_PREFIX: string };

/** The gateway's environment in a test environment (fresh database, NATS prefix), plus `extra`. */
export const gatewayEnv = (environment: TestEnvironment, extra: Record<string, string> = {}): GatewayEnv => ({
  ...environment.baseEnv,
  NATS_URL: environment.natsUrl,
  NATS_PREFIX: environment.natsPrefix,
  ...extra,
});

export interface Answer {
  status: number;
  text: string;
}

/**
 * webhook-gateway started from dist against one environment (database + NATS prefix), with what
 * connection-service would provide: verifier entries in the WEBHOOK_VERIFIERS bucket and answers to
 * rpc.connection.webhook_verifier.
 */
export class GatewayHarness {
  private readonly verifiers = new Map<string, { verifier: WebhookVerifierV1; signingToken?: string }>();
  private responder?: Subscription;
  private bucket?: KV;

  private constructor(
    readonly app: RunningApp,
    readonly env: GatewayEnv,
    readonly nc: NatsConnection,
    readonly probe: NatsProbe,
  ) {}

  /** Migrates and starts the gateway with `env` (DATABASE_URL, NATS_URL, NATS_PREFIX, …). */
  static async start(env: GatewayEnv): Promise<GatewayHarness> {
    await migrateApp('webhook-gateway', env);
    const app = await startApp('webhook-gateway', { env, timeoutMs: 60_000 });
    const nc = await connect({
      servers: env.NATS_URL,
      name: 'gateway-test',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    const harness = new GatewayHarness(app, env, nc, await NatsProbe.connect(env.NATS_URL, env.NATS_PREFIX));
    harness.answerLookups();
    return harness;
  }

  get prefix(): string {
    return this.env.NATS_PREFIX;
  }

  /** Restarts the gateway process on the same environment. */
  async restart(extraEnv: Record<string, string> = {}): Promise<void> {
    await this.app.stop();
    (this as { app: RunningApp }).app = await startApp('webhook-gateway', {
      env: { ...this.env, ...extraEnv },
      timeoutMs: 60_000,
    });
  }

  /**
   * connection-service's side of rpc.connection.webhook_verifier, from what the test set up;
   * `delayMs`: each answer that late (a slow or overloaded connection-service).
   */
  answerLookups(delayMs = 0): void {
    this.responder?.unsubscribe();
    this.responder = this.nc.subscribe(`${this.prefix}.${RPC.webhookVerifier}`, {
      callback: (_error, message) => {
        if (delayMs > 0) {
          setTimeout(() => this.answerLookup(message), delayMs);
          return;
        }
        this.answerLookup(message);
      },
    });
  }

  private answerLookup(message: Msg): void {
    const { connectionId } = JSON.parse(new TextDecoder().decode(message.data)) as {
      connectionId: string;
    };
    const known = this.verifiers.get(connectionId);
    message.respond(
      JSON.stringify(
        known
          ? {
              ok: true,
              verifier: known.verifier,
              ...(known.signingToken ? { signingKey: known.signingToken } : {}),
            }
          : { ok: false, error: { code: 'NOT_CONNECTED', message: 'no such connection' } },
      ),
    );
  }

  async kv(): Promise<KV> {
    this.bucket ??= await this.nc.jetstream().views.kv(`${this.prefix}_${KV_BUCKETS.webhookVerifiers}`);
    return this.bucket;
  }

  async connect(setup: Partial<ConnectionSetup> = {}): Promise<ConnectionSetup> {
    const connection: ConnectionSetup = {
      connectionId: randomUUID(),
      secret: `secret-${randomUUID()}`,
      state: 'active',
      inBucket: true,
      ...setup,
    };
    await this.putVerifier(connection);
    return connection;
  }

  async putVerifier(connection: ConnectionSetup): Promise<void> {
    const verifier: WebhookVerifierV1 = {
      connectionId: connection.connectionId,
      projectId: 'project-1',
      state: connection.state ?? 'active',
      secretSha256: createHash('sha256').update(connection.secret).digest('hex'),
      signed: connection.signingToken !== undefined,
      updatedAt: new Date().toISOString(),
    };
    this.verifiers.set(connection.connectionId, { verifier, signingToken: connection.signingToken });
    if (connection.inBucket !== false) {
      await (await this.kv()).put(connection.connectionId, JSON.stringify(verifier));
    }
  }

  /** Deletes the connection's entry, as connection-service does when it removes a connection for good. */
  async forget(connectionId: string): Promise<void> {
    this.verifiers.delete(connectionId);
    await (await this.kv()).delete(connectionId);
  }

  /** A delivery as GitLab sends it. */
  deliver(
    connection: Pick<ConnectionSetup, 'connectionId' | 'secret'> | { connectionId: string; secret?: string },
    body: Buffer | string,
    headers: Record<string, string | undefined> = {},
  ): Promise<Answer> {
    return post(`${this.app.url}/webhooks/gitlab/${connection.connectionId}`, body, {
      'content-type': 'application/json',
      'user-agent': 'GitLab/18.6.0',
      'x-gitlab-event': 'Issue Hook',
      'x-gitlab-instance': 'https://gitlab.example.com',
      'x-gitlab-webhook-uuid': randomUUID(),
      'x-gitlab-event-uuid': randomUUID(),
      'idempotency-key': randomUUID(),
      ...(connection.secret === undefined ? {} : { 'x-gitlab-token': connection.secret }),
      ...headers,
    });
  }

  /** Every event of one connection on GITLAB_EVENTS, in stream order. */
  events(connectionId: string): Promise<ReceivedMessage[]> {
    return this.probe.read('GITLAB_EVENTS', `gitlab.events.${connectionId}.>`);
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.app.url}/metrics`)).text();
  }

  /** Value of `gateway_deliveries_total` for one event label and outcome (0 when absent). */
  async deliveries(event: string, outcome: string): Promise<number> {
    const pattern = new RegExp(
      `^gateway_deliveries_total\\{event="${event}",outcome="${outcome}"[^}]*\\} (\\d+)`,
      'm',
    );
    return Number(pattern.exec(await this.metrics())?.[1] ?? 0);
  }

  async readiness(): Promise<{ status: number; body: { info?: { dependencies?: Record<string, string> } } }> {
    const response = await fetch(`${this.app.url}/health/ready`);
    return {
      status: response.status,
      body: (await response.json()) as { info?: { dependencies?: Record<string, string> } },
    };
  }

  async stop(): Promise<void> {
    this.responder?.unsubscribe();
    await this.app.stop();
    await this.probe.close().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
  }
}

/** POST on a connection of its own (no keep-alive pool shared between tests). */
export function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string | undefined>,
): Promise<Answer> {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const definedHeaders = Object.fromEntries(
    Object.entries(headers).filter(([, value]) => value !== undefined),
  ) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: { ...definedHeaders, 'content-length': String(payload.length) },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * Announces a body of `contentLength` bytes and sends only its first 64 KiB, as a sender of a huge
 * body does before the server answers: the answer must come from the headers alone.
 */
export function postAnnouncing(
  url: string,
  contentLength: number,
  headers: Record<string, string>,
): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(target.port), target.hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const headerEnd = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (headerEnd >= 0 && length !== undefined && received.length >= headerEnd + 4 + Number(length)) {
        socket.destroy();
        resolve({
          status: Number(received.slice(9, 12)),
          text: received.slice(headerEnd + 4, headerEnd + 4 + Number(length)),
        });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const head = [
      `POST ${target.pathname} HTTP/1.1`,
      `host: ${target.host}`,
      `content-length: ${contentLength}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    socket.write(Buffer.alloc(64 * 1024, 0x20));
  });
}
