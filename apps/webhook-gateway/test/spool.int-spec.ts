import 'reflect-metadata';

import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { Client } from 'pg';

import { ensureDatabase } from '@testkase/platform';
import { eventually, PrivateNats, PrivatePostgres, uniqueId } from '@testkase/testing';

import { fixture, GatewayHarness, type ConnectionSetup } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');

/**
 * NATS and Postgres of this file's own, so that they can be stopped: the gateway keeps answering
 * 2xx from its spool while NATS is down, drains it in order once NATS is back, and answers 503 only
 * when neither can take a delivery.
 */
describe('webhook-gateway when NATS or Postgres is down', () => {
  let nats: PrivateNats;
  let postgres: PrivatePostgres;
  let gateway: GatewayHarness;
  let connection: ConnectionSetup;
  let databaseUrl: string;

  const spoolRows = async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ msg_id: string }>('SELECT msg_id FROM gateway.spool ORDER BY id');
      return rows.map((row) => row.msg_id);
    } finally {
      await client.end();
    }
  };

  /** The gateway's saved copy of the verifier bucket: connection id → state. */
  const snapshotStates = async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ connection_id: string; state: string }>(
        `SELECT connection_id, entry->>'state' AS state FROM gateway.verifiers`,
      );
      return Object.fromEntries(rows.map((row) => [row.connection_id, row.state]));
    } finally {
      await client.end();
    }
  };

  const natsState = async () => (await gateway.readiness()).body.info?.dependencies?.['nats'];

  beforeAll(async () => {
    [nats, postgres] = await Promise.all([PrivateNats.start(), PrivatePostgres.start()]);
    databaseUrl = postgres.url('gateway_spool');
    // The port opens before the server accepts sessions ("the database system is starting up").
    await eventually(() => ensureDatabase(databaseUrl), { timeoutMs: 20_000, intervalMs: 100 });
    gateway = await GatewayHarness.start({
      DATABASE_URL: databaseUrl,
      DB_POOL_SIZE: '3',
      NATS_URL: nats.url,
      NATS_PREFIX: uniqueId('t'),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      WEBHOOK_PUBLISH_TIMEOUT: '1s',
      WEBHOOK_SPOOL_WRITE_TIMEOUT: '1s',
      SPOOL_POLL_INTERVAL: '200ms',
    });
    connection = await gateway.connect();
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([nats?.dispose(), postgres?.dispose()]);
  });

  it('spools while NATS is down, still answering 2xx and ready, then publishes all of it once, in order', async () => {
    const first = await gateway.deliver(connection, ISSUE);
    expect(first).toEqual({ status: 202, text: '{"status":"published"}' });

    await nats.pause();
    await eventually(async () => expect(await natsState()).not.toBe('up'));
    expect((await gateway.readiness()).status).toBe(200);

    const keys = Array.from({ length: 12 }, () => randomUUID());
    const answers = [];
    for (const key of keys)
      answers.push(await gateway.deliver(connection, ISSUE, { 'idempotency-key': key }));
    // GitLab resends one of them meanwhile.
    answers.push(await gateway.deliver(connection, ISSUE, { 'idempotency-key': keys[3] }));
    expect(answers.map((answer) => answer.status)).toEqual(Array(answers.length).fill(202));
    expect(new Set(answers.map((answer) => answer.text))).toEqual(new Set(['{"status":"spooled"}']));
    expect(await spoolRows()).toEqual(
      [...keys, keys[3]].map((key) => `${connection.connectionId}:issue:${key}`),
    );

    await nats.resume();
    const messages = await eventually(
      async () => {
        const stored = await gateway.events(connection.connectionId);
        expect(stored).toHaveLength(1 + keys.length);
        return stored;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(messages.map((message) => message.headers['idempotency-key'])).toEqual([
      messages[0]!.headers['idempotency-key'],
      ...keys,
    ]);
    expect(messages.every((message) => Buffer.from(message.raw).equals(ISSUE))).toBe(true);
    await eventually(async () => expect(await spoolRows()).toEqual([]));
    expect(await gateway.deliveries('issue', 'spooled')).toBe(keys.length + 1);
  });

  it('restarted while NATS is down, authenticates from the verifiers it saved and spools', async () => {
    await eventually(async () => expect(await natsState()).toBe('up'), { timeoutMs: 20_000 });
    const gone = await gateway.connect();
    await gateway.putVerifier({ ...gone, state: 'disconnected' });
    const forgotten = await gateway.connect();
    const signed = await gateway.connect({ signingToken: `whsec_${randomBytes(32).toString('base64')}` });
    await eventually(async () =>
      expect(await snapshotStates()).toMatchObject({
        [connection.connectionId]: 'active',
        [gone.connectionId]: 'disconnected',
        [forgotten.connectionId]: 'active',
        [signed.connectionId]: 'active',
      }),
    );
    await gateway.forget(forgotten.connectionId);
    await eventually(async () => expect(await snapshotStates()).not.toHaveProperty(forgotten.connectionId));
    expect(JSON.stringify(await snapshotStates())).not.toContain('whsec_');
    // Rows nobody should trust: an entry filed under another connection's id, and a malformed one.
    const impostor = { connectionId: randomUUID(), secret: 'impostor-secret' };
    const malformed = { connectionId: randomUUID(), secret: 'malformed-secret' };
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const entry = (connectionId: string, secret: string) => ({
        connectionId,
        projectId: 'project-x',
        state: 'active',
        secretSha256: createHash('sha256').update(secret).digest('hex'),
        signed: false,
        updatedAt: new Date().toISOString(),
      });
      await client.query('INSERT INTO gateway.verifiers (connection_id, entry) VALUES ($1, $2), ($3, $4)', [
        impostor.connectionId,
        entry(connection.connectionId, impostor.secret),
        malformed.connectionId,
        { ...entry(malformed.connectionId, malformed.secret), secretSha256: 'not-a-hash' },
      ]);
    } finally {
      await client.end();
    }

    await nats.pause();
    let restartedAnswer;
    try {
      await gateway.restart();
      // It listens at once; the snapshot comes in as soon as its database connection is up.
      await eventually(() =>
        expect(gateway.app.logs()).toContain('webhook verifiers restored from the database'),
      );
      restartedAnswer = await gateway.deliver(connection, ISSUE);
      expect((await gateway.deliver(gone, ISSUE)).status).toBe(401);
      expect((await gateway.deliver({ ...connection, secret: 'not-the-secret' }, ISSUE)).status).toBe(401);
      expect((await gateway.deliver(forgotten, ISSUE)).status).toBe(401);
      expect((await gateway.deliver(impostor, ISSUE)).status).toBe(401);
      expect((await gateway.deliver({ ...connection, secret: impostor.secret }, ISSUE)).status).toBe(401);
      expect((await gateway.deliver(malformed, ISSUE)).status).toBe(401);
      // A signed hook's key lives only in connection-service's database: it cannot be checked now.
      expect((await gateway.deliver(signed, ISSUE)).status).toBe(503);
    } finally {
      await nats.resume();
    }
    expect(restartedAnswer).toEqual({ status: 202, text: '{"status":"spooled"}' });
    expect(await gateway.deliveries('issue', 'spooled')).toBe(1); // counted since the restart
    await eventually(async () => expect(await spoolRows()).toEqual([]), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  });

  it('publishes directly while only Postgres is down, and stays ready', async () => {
    await eventually(async () => expect(await natsState()).toBe('up'), { timeoutMs: 20_000 });
    await postgres.pause();
    try {
      await eventually(async () =>
        expect((await gateway.readiness()).body.info?.dependencies?.['database']).not.toBe('up'),
      );
      expect((await gateway.readiness()).status).toBe(200);
      expect(await gateway.deliver(connection, ISSUE)).toEqual({
        status: 202,
        text: '{"status":"published"}',
      });
    } finally {
      await postgres.resume();
    }
  });

  it('answers 503 and is not ready when neither NATS nor Postgres can take a delivery', async () => {
    await eventually(
      async () => expect((await gateway.readiness()).body.info?.dependencies?.['database']).toBe('up'),
      {
        timeoutMs: 20_000,
      },
    );
    await Promise.all([nats.pause(), postgres.pause()]);
    try {
      await eventually(async () => expect((await gateway.readiness()).status).toBe(503));
      const answer = await gateway.deliver(connection, ISSUE);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      await Promise.all([nats.resume(), postgres.resume()]);
    }
    await eventually(async () => expect((await gateway.deliver(connection, ISSUE)).status).toBe(202), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  });

  it('parks a body too large for NATS while NATS is down (max_payload as last seen), within the parking quota', async () => {
    await eventually(async () => expect(await natsState()).toBe('up'), { timeoutMs: 20_000 });
    const body = Buffer.alloc(2 * 1024 * 1024, 0x20);
    body.write('{"object_kind":"issue","padding":"', 0);
    body.write('"}', body.length - 2);
    await nats.pause();
    let answer;
    try {
      await eventually(async () => expect(await natsState()).not.toBe('up'));
      answer = await gateway.deliver(connection, body);
    } finally {
      await nats.resume();
    }
    // Spooled as pending, it would be parked by the relay later, outside the parking quota.
    expect(answer).toEqual({ status: 202, text: '{"status":"parked"}' });
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ bytes: number }>(
        'DELETE FROM gateway.spool WHERE parked_at IS NOT NULL RETURNING length(body) AS bytes',
      );
      expect(rows).toEqual([{ bytes: body.length }]);
    } finally {
      await client.end();
    }
  });
  it('refuses a connection over its pending spool quota while NATS is down; the others go on being spooled', async () => {
    await eventually(async () => expect(await natsState()).toBe('up'), { timeoutMs: 20_000 });
    // Room for three of these deliveries per connection.
    await gateway.restart({ SPOOL_PENDING_MAX_BYTES_PER_CONNECTION: String(ISSUE.length * 3 + 100) });
    try {
      const other = await gateway.connect();
      const before = (await gateway.events(connection.connectionId)).length;
      const keys = Array.from({ length: 5 }, () => randomUUID());
      const answers = [];
      let spooledForOther;
      await nats.pause();
      try {
        await eventually(async () => expect(await natsState()).not.toBe('up'));
        for (const key of keys)
          answers.push(await gateway.deliver(connection, ISSUE, { 'idempotency-key': key }));
        spooledForOther = await gateway.deliver(other, ISSUE);
      } finally {
        await nats.resume();
      }
      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 503, 503]);
      expect(answers[3]!.text).toContain('used up its spool quota');
      expect(spooledForOther).toEqual({ status: 202, text: '{"status":"spooled"}' });
      expect(await gateway.deliveries('issue', 'spool_full')).toBe(2);
      // The three it took are published once; the two refused are not stored anywhere.
      await eventually(
        async () => {
          const stored = (await gateway.events(connection.connectionId)).slice(before);
          expect(stored.map((message) => message.headers['idempotency-key'])).toEqual(keys.slice(0, 3));
          expect(await gateway.events(other.connectionId)).toHaveLength(1);
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await eventually(async () => expect(await spoolRows()).toEqual([]));
      // Drained, the quota is free again.
      await nats.pause();
      try {
        await eventually(async () => expect(await natsState()).not.toBe('up'));
        expect(await gateway.deliver(connection, ISSUE)).toEqual({
          status: 202,
          text: '{"status":"spooled"}',
        });
      } finally {
        await nats.resume();
      }
    } finally {
      await gateway.restart();
    }
  });
});
