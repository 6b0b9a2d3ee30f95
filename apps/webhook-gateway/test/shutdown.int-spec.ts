import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness, type ConnectionSetup } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');

describe('webhook-gateway stopped with SIGTERM while deliveries flow', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;
  let connection: ConnectionSetup;

  beforeAll(async () => {
    environment = await createTestEnvironment('gateway_stop');
    gateway = await GatewayHarness.start(gatewayEnv(environment, { SPOOL_POLL_INTERVAL: '200ms' }));
    connection = await gateway.connect();
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
  });

  it('has every delivery it answered 2xx on JetStream or in its spool', async () => {
    const accepted: string[] = [];
    const refused: number[] = [];
    let stopping = false;

    // Eight senders, as GitLab's Sidekiq workers would be, each until the gateway stops answering.
    const sender = async () => {
      for (;;) {
        const key = randomUUID();
        try {
          const answer = await gateway.deliver(connection, ISSUE, { 'idempotency-key': key });
          if (answer.status >= 200 && answer.status < 300) accepted.push(key);
          else refused.push(answer.status);
        } catch {
          if (stopping) return; // connection refused or reset: the process is gone
        }
        if (stopping && refused.length > 0) return;
      }
    };
    const senders = Array.from({ length: 8 }, () => sender());
    await eventually(() => expect(accepted.length).toBeGreaterThan(200), { timeoutMs: 20_000 });

    stopping = true;
    const exitCode = await gateway.app.stop('SIGTERM');
    await Promise.all(senders);
    expect(exitCode).toBe(0);
    expect(refused.every((status) => status === 503)).toBe(true);

    const published = new Set(
      (await gateway.events(connection.connectionId)).map((message) => message.headers['idempotency-key']),
    );
    const database = new Client({ connectionString: environment.databaseUrl });
    await database.connect();
    const spooled = new Set(
      (
        await database.query<{ key: string }>(`SELECT headers->>'idempotency-key' AS key FROM gateway.spool`)
      ).rows.map((row) => row.key),
    );
    await database.end();
    const lost = accepted.filter((key) => !published.has(key) && !spooled.has(key));
    expect(lost).toEqual([]);
    expect(published.size + spooled.size).toBeGreaterThanOrEqual(accepted.length);
  });
});
