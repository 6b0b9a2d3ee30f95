import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';

import { Client } from 'pg';

import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness, type ConnectionSetup } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');
const MIB = 1024 * 1024;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * Opens a delivery that announces `contentLength` bytes and sends only 64 KiB of them: the gateway
 * holds the body's bytes as in flight until the socket is closed. `answer` resolves if the gateway
 * answers from the headers alone (a refusal); it stays pending for an admitted body.
 */
function announce(
  url: string,
  connection: ConnectionSetup,
  contentLength: number,
): { socket: Socket; answer: Promise<RawAnswer> } {
  const target = new URL(url);
  const socket = tcpConnect(Number(target.port), target.hostname);
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const headerEnd = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (headerEnd < 0 || length === undefined || received.length < headerEnd + 4 + Number(length)) return;
      const headers = Object.fromEntries(
        received
          .slice(0, headerEnd)
          .split('\r\n')
          .slice(1)
          .map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
      );
      socket.destroy();
      resolve({
        status: Number(received.slice(9, 12)),
        headers,
        text: received.slice(headerEnd + 4, headerEnd + 4 + Number(length)),
      });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
  });
  socket.write(
    [
      `POST /webhooks/gitlab/${connection.connectionId} HTTP/1.1`,
      `host: ${target.host}`,
      `content-length: ${contentLength}`,
      'content-type: application/json',
      `x-gitlab-token: ${connection.secret}`,
      'x-gitlab-event: Issue Hook',
      `idempotency-key: ${randomUUID()}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(Buffer.alloc(64 * 1024, 0x20));
  return { socket, answer };
}

/** A delivery through fetch, for the answer's headers. */
async function deliver(
  gateway: GatewayHarness,
  connection: ConnectionSetup,
  body: Buffer,
): Promise<RawAnswer> {
  const response = await fetch(`${gateway.app.url}/webhooks/gitlab/${connection.connectionId}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-gitlab-token': connection.secret,
      'x-gitlab-event': 'Issue Hook',
      'idempotency-key': randomUUID(),
    },
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text: await response.text(),
  };
}

/** A valid Issue Hook body of `bytes` bytes: too large for the NATS server's default max_payload (1 MiB). */
function largeIssue(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, 0x20);
  body.write('{"object_kind":"issue","padding":"', 0);
  body.write('"}', body.length - 2);
  return body;
}

/**
 * What one caller holding a connection's secret can make the gateway hold: bytes in flight per
 * connection and overall, and parked deliveries (quota and retention). Small limits, measured by
 * the gateway's answers and metrics.
 */
describe('webhook-gateway limits (real NATS and Postgres, gateway from dist)', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;
  const open: Socket[] = [];

  const metric = async (name: string): Promise<number> => {
    const pattern = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm');
    return Number(pattern.exec(await gateway.metrics())?.[1] ?? 0);
  };

  const parkedRows = async (): Promise<number> => {
    const client = new Client({ connectionString: environment.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>(
        'SELECT count(*) AS count FROM gateway.spool WHERE parked_at IS NOT NULL',
      );
      return Number(rows[0]?.count ?? 0);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    environment = await createTestEnvironment('gateway-limits');
    gateway = await GatewayHarness.start(
      gatewayEnv(environment, {
        WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION: '25MiB',
        WEBHOOK_INFLIGHT_BYTES: '40MiB',
        SPOOL_PARKED_MAX_BYTES_PER_CONNECTION: '3MiB',
        SPOOL_PARKED_MAX_BYTES: '5MiB',
        SPOOL_POLL_INTERVAL: '200ms',
      }),
    );
  }, 90_000);

  afterEach(() => {
    for (const socket of open.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
  });

  it('answers 503 with Retry-After above a connection’s bytes in flight and above the gateway’s, and takes deliveries again once they are done', async () => {
    const [a, b, c] = [await gateway.connect(), await gateway.connect(), await gateway.connect()];
    const url = gateway.app.url;

    const heldA = announce(url, a, 20 * MIB);
    open.push(heldA.socket);
    await eventually(async () => expect(await metric('gateway_inflight_bytes')).toBe(20 * MIB));
    // Normal traffic of the same connection still fits beside a large body.
    expect((await deliver(gateway, a, ISSUE)).status).toBe(202);

    const overConnection = announce(url, a, 6 * MIB);
    open.push(overConnection.socket);
    const throttled = await overConnection.answer;
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(JSON.parse(throttled.text)).toMatchObject({
      error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('this connection') },
    });

    const heldB = announce(url, b, 20 * MIB);
    open.push(heldB.socket);
    await eventually(async () => expect(await metric('gateway_inflight_bytes')).toBe(40 * MIB));
    const overloaded = await deliver(gateway, c, ISSUE);
    expect(overloaded.status).toBe(503);
    expect(overloaded.headers['retry-after']).toBe('1');
    expect(JSON.parse(overloaded.text)).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    expect(await gateway.deliveries('issue', 'throttled')).toBe(1);
    expect(await gateway.deliveries('issue', 'overloaded')).toBe(1);

    heldA.socket.destroy();
    heldB.socket.destroy();
    await eventually(async () => expect(await metric('gateway_inflight_bytes')).toBe(0));
    expect(await deliver(gateway, c, ISSUE)).toMatchObject({ status: 202, text: '{"status":"published"}' });
    expect(await gateway.events(c.connectionId)).toHaveLength(1);
  });

  it('routes an Issue Hook from a bounded prefix of its body: an object_kind past 64 KiB is not parsed for', async () => {
    const connection = await gateway.connect();
    const body = Buffer.from(JSON.stringify({ padding: 'x'.repeat(70 * 1024), object_kind: 'work_item' }));
    expect(await deliver(gateway, connection, body)).toMatchObject({
      status: 202,
      text: '{"status":"published"}',
    });
    const [message] = await gateway.events(connection.connectionId);
    // The consumers of `issue` parse the whole body and see it is a work item.
    expect(message!.subject).toBe(`gitlab.events.${connection.connectionId}.issue`);
  });

  it('parks deliveries too large for NATS only within the quota of the connection and of the gateway, then answers 503 with Retry-After', async () => {
    const [a, b, c] = [await gateway.connect(), await gateway.connect(), await gateway.connect()];
    const body = largeIssue(2 * MIB);

    expect(await deliver(gateway, a, body)).toMatchObject({ status: 202, text: '{"status":"parked"}' });
    const overConnection = await deliver(gateway, a, body);
    expect(await deliver(gateway, b, body)).toMatchObject({ status: 202, text: '{"status":"parked"}' });
    const overTotal = await deliver(gateway, c, body);

    for (const answer of [overConnection, overTotal]) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    }
    expect(await gateway.deliveries('issue', 'over_quota')).toBe(2);
    expect(await parkedRows()).toBe(2);
  });

  it('deletes parked deliveries after SPOOL_PARKED_RETENTION, which frees the quota', async () => {
    if ((await parkedRows()) === 0) await deliver(gateway, await gateway.connect(), largeIssue(2 * MIB));
    expect(await parkedRows()).toBeGreaterThan(0);
    await gateway.restart({ SPOOL_PARKED_RETENTION: '1s' });
    await eventually(async () => expect(await parkedRows()).toBe(0), { timeoutMs: 10_000, intervalMs: 200 });
    expect(await metric('gateway_spool_purged_total')).toBeGreaterThanOrEqual(1);
    expect(gateway.app.logs()).toContain('parked deliveries older than SPOOL_PARKED_RETENTION deleted');

    const connection = await gateway.connect();
    expect(await deliver(gateway, connection, largeIssue(2 * MIB))).toMatchObject({
      status: 202,
      text: '{"status":"parked"}',
    });
  });
});
