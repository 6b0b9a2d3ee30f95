import { createServer, type AddressInfo } from 'node:net';

import { context, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { AckPolicy, DeliverPolicy, type JsMsg } from 'nats';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

import { defineEvent, HEADERS, STREAMS } from '@testkase/contracts';
import { isAppError, ValidationError } from '@testkase/util';

import {
  buildCloudEvent,
  createDataSource,
  ensureStreams,
  EventPublisher,
  HoldMessage,
  Inbox,
  InboxOutbox,
  isConnectionFailure,
  JetStreamConsumer,
  listParkedOutboxRows,
  MAX_OUTBOX_EVENT_BYTES,
  MessagingRetention,
  MessagingTablesMigrationV1,
  MessagingTablesMigrationV2,
  MessagingTablesMigrationV3,
  MetricsRegistry,
  NatsClient,
  Outbox,
  OutboxRelay,
  replayParkedOutboxRows,
  runMigrations,
  sqlOf,
  type InboundMessage,
} from '../src';
import { eventually, freshDatabase, memoryLogger, NATS_URL, uniqueName } from './helpers';

const SCHEMA = 'platform_test';

class CreateMessagingTables1700000000000 extends MessagingTablesMigrationV1 {
  readonly name = 'CreateMessagingTables1700000000000';
  constructor() {
    super(SCHEMA);
  }
}

class ParkOutboxRows1700000000001 extends MessagingTablesMigrationV2 {
  readonly name = 'ParkOutboxRows1700000000001';
  constructor() {
    super(SCHEMA);
  }
}

class KeepOutboxTraceContext1700000000002 extends MessagingTablesMigrationV3 {
  readonly name = 'KeepOutboxTraceContext1700000000002';
  constructor() {
    super(SCHEMA);
  }
}

const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
provider.register();

const TestEvent = defineEvent<{ n: number }>('integration.test.happened');

describe('messaging against the real NATS and Postgres', () => {
  const { logger, lines } = memoryLogger();
  const metrics = new MetricsRegistry('platform-test');
  let database: { url: string; drop: () => Promise<void> };
  let dataSource: DataSource;
  let nats: NatsClient;
  let publisher: EventPublisher;
  const consumers: JetStreamConsumer[] = [];
  const relays: OutboxRelay[] = [];
  const prefix = uniqueName('t');

  beforeAll(async () => {
    database = await freshDatabase();
    dataSource = createDataSource({
      url: database.url,
      schema: SCHEMA,
      entities: [],
      migrations: [
        CreateMessagingTables1700000000000,
        ParkOutboxRows1700000000001,
        KeepOutboxTraceContext1700000000002,
      ],
      applicationName: 'platform-test',
    });
    await dataSource.initialize();
    expect(await runMigrations(dataSource)).toEqual([
      'CreateMessagingTables1700000000000',
      'ParkOutboxRows1700000000001',
      'KeepOutboxTraceContext1700000000002',
    ]);
    nats = new NatsClient({ servers: NATS_URL, name: 'platform-test', prefix }, logger);
    await nats.ready();
    await ensureStreams(nats.jsm, nats.naming, [STREAMS.INTEGRATION, STREAMS.DEAD_LETTERS]);
    publisher = new EventPublisher(nats);
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop(1_000)));
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    for (const name of [STREAMS.INTEGRATION.name, STREAMS.DEAD_LETTERS.name]) {
      await nats.jsm.streams.delete(nats.naming.stream(name)).catch(() => undefined);
    }
    await nats.close();
    await dataSource.destroy();
    await database.drop();
    await provider.shutdown();
  });

  const consume = (
    durable: string,
    filterSubject: string,
    handler: (message: InboundMessage) => Promise<void>,
    options: { maxDeliver?: number; ackWaitMs?: number; maxWorkMs?: number; holds?: boolean } = {},
  ) => {
    const consumer = new JetStreamConsumer(
      nats,
      {
        stream: STREAMS.INTEGRATION.name,
        durable,
        filterSubject,
        handler,
        concurrency: 4,
        retryDelayMs: () => 50,
        ...options,
      },
      logger,
      metrics,
    );
    consumers.push(consumer);
    return consumer;
  };

  async function readAll(subject: string, streamName: string = STREAMS.INTEGRATION.name): Promise<JsMsg[]> {
    const durable = uniqueName('reader');
    await nats.jsm.consumers.add(nats.naming.stream(streamName), {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: nats.naming.subject(subject),
    });
    const consumer = await nats.js.consumers.get(nats.naming.stream(streamName), durable);
    const out: JsMsg[] = [];
    for (
      let pending = (await consumer.info()).num_pending;
      pending > 0;
      pending = (await consumer.info()).num_pending
    ) {
      const batch = await consumer.fetch({ max_messages: Math.min(pending, 1000), expires: 2000 });
      for await (const message of batch) {
        out.push(message);
        message.ack();
      }
    }
    await nats.jsm.consumers.delete(nats.naming.stream(streamName), durable);
    return out;
  }

  it('stores a message published twice with the same id once', async () => {
    const first = await publisher.publishRaw('integration.dedupe.x', '{"a":1}', { msgId: 'same-id' });
    const second = await publisher.publishRaw('integration.dedupe.x', '{"a":1}', { msgId: 'same-id' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    expect(await readAll('integration.dedupe.x')).toHaveLength(1);
  });

  it('delivers a message again to a consumer that crashed before acknowledging it', async () => {
    const seen: number[] = [];
    const crashing = new NatsClient({ servers: NATS_URL, name: 'crashing', prefix }, logger);
    await crashing.ready();
    const first = new JetStreamConsumer(
      crashing,
      {
        stream: STREAMS.INTEGRATION.name,
        durable: 'test-crash',
        filterSubject: 'integration.crash.>',
        ackWaitMs: 1_000,
        handler: async (message) => {
          seen.push(message.deliveryCount);
          await new Promise(() => undefined); // never finishes: the process "dies" before acking
        },
      },
      logger,
      metrics,
    );
    await first.start();
    await publisher.publishRaw('integration.crash.one', '{}', { msgId: uniqueName('m') });
    await eventually(() => expect(seen).toEqual([1]));
    await crashing.nc.close(); // the crash: connection gone, no ack sent
    await first.stop(100);

    const delivered: number[] = [];
    await consume(
      'test-crash',
      'integration.crash.>',
      async (message) => {
        delivered.push(message.deliveryCount);
      },
      { ackWaitMs: 1_000 },
    ).start();
    await eventually(() => expect(delivered).toEqual([2]));
  });

  it('dead-letters a message that always fails after the configured deliveries, with its error, and goes on', async () => {
    const attempts: string[] = [];
    const handled: string[] = [];
    await consume(
      'test-poison',
      'integration.poison.>',
      async (message) => {
        const body = message.json<{ name: string }>();
        if (body.name === 'poison') {
          attempts.push(body.name);
          throw new Error('database said no');
        }
        handled.push(body.name);
      },
      { maxDeliver: 3 },
    ).start();
    await publisher.publishRaw('integration.poison.a', '{"name":"poison"}', { msgId: uniqueName('m') });
    await publisher.publishRaw('integration.poison.b', '{"name":"healthy"}', { msgId: uniqueName('m') });

    await eventually(() => expect(handled).toEqual(['healthy']));
    const dead = await eventually(async () => {
      const messages = await readAll('deadletter.test-poison', STREAMS.DEAD_LETTERS.name);
      expect(messages).toHaveLength(1);
      return messages[0]!;
    });
    expect(attempts).toHaveLength(3);
    expect(JSON.parse(Buffer.from(dead.data).toString())).toEqual({ name: 'poison' });
    expect(dead.headers?.get(HEADERS.deadLetterError)).toBe('database said no');
    expect(dead.headers?.get(HEADERS.deadLetterDeliveries)).toBe('3');
    expect(dead.headers?.get(HEADERS.deadLetterSubject)).toBe('integration.poison.a');
  });

  it('holds a message (HoldMessage) as often as asked without dead-lettering it, and counts only failures', async () => {
    // Issue 12, a paused connection's events: held three times, then one failure, then handled,
    // with maxDeliver 2 — the holds neither dead-letter it nor use up its deliveries.
    const seen: string[] = [];
    await consume(
      'test-hold',
      'integration.hold.>',
      async (message) => {
        seen.push(`delivery ${message.deliveryCount}`);
        if (seen.length <= 3) throw new HoldMessage('paused');
        if (seen.length === 4) throw new Error('one real failure');
      },
      { maxDeliver: 2, holds: true },
    ).start();
    await publisher.publishRaw('integration.hold.a', '{}', { msgId: uniqueName('m') });
    await eventually(() => expect(seen).toHaveLength(5), { timeoutMs: 20_000, intervalMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(5);
    expect(await readAll('deadletter.test-hold', STREAMS.DEAD_LETTERS.name)).toHaveLength(0);
    const info = await nats.jsm.consumers.info(nats.naming.stream(STREAMS.INTEGRATION.name), 'test-hold');
    expect(info.config.max_deliver).toBe(-1);
  }, 30_000);

  it('holds a message whose handler cannot reach Postgres instead of dead-lettering it', async () => {
    // Found by the soak (bench/soak): a Postgres restart of a few seconds used up five deliveries of
    // a message and dead-lettered it, although nothing was wrong with the message.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const seen: number[] = [];
    await consume(
      'test-outage',
      'integration.outage.>',
      async (message) => {
        seen.push(message.deliveryCount);
        if (seen.length <= 4) {
          // What a repository meets while the server is away: connection refused.
          const client = new Client({ host: '127.0.0.1', port: closed, user: 'postgres' });
          await client.connect();
        }
      },
      { maxDeliver: 2 },
    ).start();
    await publisher.publishRaw('integration.outage.a', '{}', { msgId: uniqueName('m') });
    await eventually(() => expect(seen).toHaveLength(5), { timeoutMs: 40_000, intervalMs: 100 });
    expect(await readAll('deadletter.test-outage', STREAMS.DEAD_LETTERS.name)).toHaveLength(0);
    const info = await nats.jsm.consumers.info(nats.naming.stream(STREAMS.INTEGRATION.name), 'test-outage');
    expect(info.config.max_deliver).toBe(-1);
    expect(isConnectionFailure(new Error('database said no'))).toBe(false);
    expect(isConnectionFailure(new ValidationError('bad'))).toBe(false);
  }, 60_000);

  it('gives a replayed dead letter its original id as the message id (x-replayed-msg-id)', async () => {
    const ids: Array<string | undefined> = [];
    await consume('test-replayed', 'integration.replayed.>', async (message) => {
      ids.push(message.msgId);
    }).start();
    const original = uniqueName('original');
    await publisher.publishRaw('integration.replayed.a', '{}', {
      msgId: `${original}#replay-7`,
      headers: { [HEADERS.replayedMsgId]: original },
    });
    const plain = uniqueName('plain');
    await publisher.publishRaw('integration.replayed.b', '{}', { msgId: plain });
    await eventually(() => expect([...ids].sort()).toEqual([original, plain].sort()));
  });

  it('dead-letters a permanent failure at once and terminates it', async () => {
    let attempts = 0;
    await consume('test-invalid', 'integration.invalid.>', async (message) => {
      attempts += 1;
      message.json();
      throw new ValidationError('not an issue');
    }).start();
    await publisher.publishRaw('integration.invalid.a', 'this is not json', { msgId: uniqueName('m') });
    const dead = await eventually(async () => {
      const messages = await readAll('deadletter.test-invalid', STREAMS.DEAD_LETTERS.name);
      expect(messages).toHaveLength(1);
      return messages[0]!;
    });
    expect(dead.headers?.get(HEADERS.deadLetterCode)).toBe('VALIDATION_FAILED');
    expect(dead.headers?.get(HEADERS.deadLetterError)).toMatch(/not JSON/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts).toBe(1);
  });

  it('keeps a message worked on for longer than the ack wait from being redelivered meanwhile', async () => {
    const deliveries: number[] = [];
    let finished = 0;
    await consume(
      'test-slow',
      'integration.slow.>',
      async (message) => {
        deliveries.push(message.deliveryCount);
        // As a handler waiting out GitLab's Retry-After would: three times the ack wait.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        finished += 1;
      },
      { ackWaitMs: 1_000 },
    ).start();
    await publisher.publishRaw('integration.slow.a', '{}', { msgId: uniqueName('m') });
    await eventually(() => expect(finished).toBe(1), { timeoutMs: 6_000 });
    // Past another ack wait: acknowledged once, never delivered again.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(deliveries).toEqual([1]);
    expect(finished).toBe(1);
  });

  it('bounds the work on one delivery: at maxWorkMs its signal aborts and the message comes back', async () => {
    const deliveries: Array<{ n: number; at: number }> = [];
    const aborts: unknown[] = [];
    const start = Date.now();
    await consume(
      'test-bounded',
      'integration.bounded.>',
      async (message) => {
        deliveries.push({ n: message.deliveryCount, at: Date.now() - start });
        if (message.deliveryCount > 1) return;
        await new Promise<void>((_, reject) => {
          message.signal.addEventListener('abort', () => {
            aborts.push(message.signal.reason);
            reject(message.signal.reason as Error);
          });
        });
      },
      { ackWaitMs: 5_000, maxWorkMs: 800 },
    ).start();
    await publisher.publishRaw('integration.bounded.a', '{}', { msgId: uniqueName('m') });
    await eventually(() => expect(deliveries.map((d) => d.n)).toEqual([1, 2]), { timeoutMs: 5_000 });
    expect(aborts).toHaveLength(1);
    expect(isAppError(aborts[0]) && aborts[0].transient).toBe(true);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(750);
    // The second delivery came from the deadline, not from the 5 s ack wait.
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeLessThan(4_000);
  });

  it('makes a redelivered event a no-op through the inbox', async () => {
    const inbox = new Inbox(SCHEMA);
    await dataSource.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.effects (n int)`);
    const apply = () =>
      inbox.once(dataSource, 'test-consumer', 'event-1', async (tx) => {
        await tx.query(`INSERT INTO ${SCHEMA}.effects VALUES (1)`);
      });
    expect(await apply()).toBe(true);
    expect(await apply()).toBe(false);
    const failing = inbox.once(dataSource, 'test-consumer', 'event-2', async () => {
      throw new Error('effect failed');
    });
    await expect(failing).rejects.toThrow('effect failed');
    // The failed attempt left no inbox row, so a retry applies it.
    expect(await inbox.once(dataSource, 'test-consumer', 'event-2', async () => undefined)).toBe(true);
    const [{ count }] = await dataSource.query(`SELECT count(*)::int AS count FROM ${SCHEMA}.effects`);
    expect(count).toBe(1);
  });

  it('claims and stages in one statement: a second claim of an event id is a duplicate', async () => {
    const ledger = new InboxOutbox(SCHEMA);
    const StagedEvent = defineEvent<{ n: number }>('integration.test.staged');
    const event = buildCloudEvent('test', StagedEvent, { n: 7 });
    const staged = await dataSource.transaction((tx) =>
      ledger.claimAndStage(
        sqlOf(tx),
        'ledger-consumer',
        ['d-1', 'd-2'],
        [{ subject: StagedEvent.subject, event }],
      ),
    );
    expect([...staged].sort()).toEqual(['d-1', 'd-2']);
    const again = await dataSource.transaction((tx) =>
      ledger.claimAndStage(sqlOf(tx), 'ledger-consumer', ['d-2', 'd-3'], []),
    );
    expect([...again]).toEqual(['d-3']);
    const rows = await dataSource.query(`SELECT subject, payload FROM ${SCHEMA}.outbox WHERE event_id = $1`, [
      event.id,
    ]);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0].payload)).toMatchObject({ id: event.id, data: { n: 7 } });
  });

  const stageRaw = async (subject: string, payload: string) => {
    const eventId = crypto.randomUUID();
    const [row] = await dataSource.query(
      `INSERT INTO ${SCHEMA}.outbox (event_id, subject, headers, payload) VALUES ($1, $2, '{}', $3) RETURNING id`,
      [eventId, subject, payload],
    );
    return { id: String(row.id), eventId };
  };
  const outboxRow = async (id: string) =>
    (
      await dataSource.query(
        `SELECT published_at, parked_at, park_reason, attempts, last_error FROM ${SCHEMA}.outbox WHERE id = $1`,
        [id],
      )
    )[0] as {
      published_at: Date | null;
      parked_at: Date | null;
      park_reason: string | null;
      attempts: number;
      last_error: string | null;
    };

  it("purges the schema's inbox entries and published outbox rows past their retention, and keeps the rest", async () => {
    await dataSource.query(
      `INSERT INTO ${SCHEMA}.inbox (consumer, event_id, processed_at)
       VALUES ('retention', 'old', now() - interval '31 days'), ('retention', 'recent', now() - interval '29 days')`,
    );
    const old = await stageRaw('integration.retention.old', '{}');
    const parked = await stageRaw('integration.retention.parked', '{}');
    await dataSource.query(
      `UPDATE ${SCHEMA}.outbox SET published_at = now() - interval '8 days' WHERE id = $1`,
      [old.id],
    );
    await dataSource.query(
      `UPDATE ${SCHEMA}.outbox SET parked_at = now() - interval '40 days', park_reason = 'test' WHERE id = $1`,
      [parked.id],
    );
    const retention = new MessagingRetention({ databaseUrl: database.url, schema: SCHEMA }, logger, metrics);
    try {
      retention.start();
      await eventually(async () => {
        const rows = await dataSource.query(
          `SELECT event_id FROM ${SCHEMA}.inbox WHERE consumer = 'retention' ORDER BY event_id`,
        );
        expect(rows.map((row: { event_id: string }) => row.event_id)).toEqual(['recent']);
        expect(await outboxRow(old.id)).toBeUndefined();
      });
      // Parked rows wait for their replay, however old.
      expect((await outboxRow(parked.id))?.park_reason).toBe('test');
    } finally {
      await retention.stop();
      await dataSource.query(`DELETE FROM ${SCHEMA}.outbox WHERE id = $1`, [parked.id]);
    }
  });

  it('purges on its own connection: the relay publishes while a purge waits on a lock', async () => {
    await dataSource.query(
      `INSERT INTO ${SCHEMA}.inbox (consumer, event_id, processed_at) VALUES ('blocked', 'old', now() - interval '40 days')`,
    );
    const locker = new Client({ connectionString: database.url });
    await locker.connect();
    const relay = new OutboxRelay({ databaseUrl: database.url, schema: SCHEMA }, nats, logger, metrics);
    relays.push(relay);
    const retention = new MessagingRetention(
      { databaseUrl: database.url, schema: SCHEMA, intervalMs: 200 },
      logger,
      metrics,
    );
    const Flowing = defineEvent<{ n: number }>('integration.retention.flowing');
    const outbox = new Outbox(SCHEMA, 'test');
    try {
      // A long transaction holds the inbox (a migration, a vacuum full, an admin's session).
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${SCHEMA}.inbox IN ACCESS EXCLUSIVE MODE`);
      retention.start();
      relay.start();
      await new Promise((resolve) => setTimeout(resolve, 500)); // both have had their first round
      await dataSource.transaction((tx) => outbox.add(tx, Flowing, { n: 1 }));
      await eventually(async () => expect(await readAll(Flowing.subject)).toHaveLength(1), {
        timeoutMs: 5_000,
      });
      await locker.query('COMMIT');
      await eventually(async () =>
        expect(await dataSource.query(`SELECT 1 FROM ${SCHEMA}.inbox WHERE consumer = 'blocked'`)).toEqual(
          [],
        ),
      );
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await retention.stop();
    }
  });

  it('publishes exactly the committed outbox events, in order, and none from a rolled-back transaction', async () => {
    const outbox = new Outbox(SCHEMA, 'test');
    await dataSource.transaction(async (tx) => {
      for (const n of [1, 2, 3]) await outbox.add(tx, TestEvent, { n }, { subject: 'committed' });
    });
    await expect(
      dataSource.transaction(async (tx) => {
        await outbox.add(tx, TestEvent, { n: 99 });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await dataSource.transaction(async (tx) => outbox.add(tx, TestEvent, { n: 4 }));

    const relay = new OutboxRelay({ databaseUrl: database.url, schema: SCHEMA }, nats, logger, metrics);
    relays.push(relay);
    relay.start();
    const messages = await eventually(async () => {
      const all = await readAll(TestEvent.subject);
      expect(all).toHaveLength(4);
      return all;
    });
    const events = messages.map((m) => JSON.parse(Buffer.from(m.data).toString()));
    expect(events.map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      type: 'integration.test.happened.v1',
      source: 'test',
      subject: 'committed',
    });
    expect(messages[0]!.headers?.get('Nats-Msg-Id')).toBe(events[0].id);
    const [{ pending }] = await dataSource.query(
      `SELECT count(*)::int AS pending FROM ${SCHEMA}.outbox WHERE published_at IS NULL`,
    );
    expect(pending).toBe(0);
  });

  it('reads and publishes at most batchBytes of payload a round (at least one row), every row in order', async () => {
    const subject = 'integration.relay.bytes';
    const SizedEvent = defineEvent<{ n: number; padding: string }>(subject);
    const outbox = new Outbox(SCHEMA, 'test');
    await dataSource.transaction(async (tx) => {
      for (let n = 1; n <= 7; n += 1) {
        // The fourth is larger than the whole budget: a round of its own.
        await outbox.add(tx, SizedEvent, { n, padding: 'x'.repeat(n === 4 ? 40_000 : 10_000) });
      }
    });
    const budget = 32_000;
    const relay = new OutboxRelay(
      { databaseUrl: database.url, schema: SCHEMA, batchBytes: budget },
      nats,
      logger,
      metrics,
    );
    relays.push(relay);
    relay.start();
    const messages = await eventually(async () => {
      const all = await readAll(subject);
      expect(all).toHaveLength(7);
      return all;
    });
    expect(messages.map((m) => JSON.parse(Buffer.from(m.data).toString()).data.n)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    // Each round marks its rows published in one statement: one published_at per round.
    const rounds: Array<{ rows: number; bytes: number }> = await dataSource.query(
      `SELECT count(*)::int AS rows, sum(octet_length(payload))::int AS bytes FROM ${SCHEMA}.outbox
        WHERE subject = $1 GROUP BY published_at ORDER BY published_at`,
      [subject],
    );
    expect(rounds.map((round) => round.rows)).toEqual([3, 1, 3]);
    for (const round of rounds) expect(round.rows === 1 || round.bytes <= budget).toBe(true);
  });

  it('publishes every event exactly once when the relay is killed halfway and another takes over', async () => {
    const subject = 'integration.relay.killed';
    const KilledEvent = defineEvent<{ n: number }>(subject);
    const outbox = new Outbox(SCHEMA, 'test');
    const total = 3_000;
    await dataSource.transaction(async (tx) => {
      await outbox.addMany(
        tx,
        Array.from({ length: total }, (_, n) => ({
          subject,
          event: {
            specversion: '1.0' as const,
            id: crypto.randomUUID(),
            source: 'test',
            type: KilledEvent.type,
            time: new Date().toISOString(),
            datacontenttype: 'application/json' as const,
            data: { n },
          },
        })),
      );
    });
    const subscription = nats.nc.subscribe(nats.naming.subject(subject));
    let seen = 0;
    const firstRelay = new OutboxRelay(
      { databaseUrl: database.url, schema: SCHEMA, batchSize: 50, applicationName: 'relay-to-kill' },
      nats,
      logger,
      metrics,
    );
    firstRelay.start();
    for await (const _ of subscription) {
      seen += 1;
      if (seen >= 400) break;
    }
    // Kill its database session mid-stream: it loses the lock with rows published but not marked.
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'relay-to-kill'`,
    );
    await admin.end();
    await firstRelay.stop();

    const secondRelay = new OutboxRelay(
      { databaseUrl: database.url, schema: SCHEMA, batchSize: 500 },
      nats,
      logger,
      metrics,
    );
    relays.push(secondRelay);
    secondRelay.start();
    const messages = await eventually(
      async () => {
        const all = await readAll(subject);
        expect(all).toHaveLength(total);
        return all;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const numbers = messages.map((m) => JSON.parse(Buffer.from(m.data).toString()).data.n);
    expect(numbers).toEqual(Array.from({ length: total }, (_, n) => n));
    const [{ pending }] = await dataSource.query(
      `SELECT count(*)::int AS pending FROM ${SCHEMA}.outbox WHERE published_at IS NULL AND subject = $1`,
      [subject],
    );
    expect(pending).toBe(0);
  });

  it("parks a row larger than the server's max_payload and publishes the rows after it", async () => {
    const subject = 'integration.relay.poison';
    const PoisonEvent = defineEvent<{ n: number; title?: string }>(subject);
    // Staged as a row of an older version (or under a lowered max_payload) would be: past the outbox's check.
    const huge = JSON.stringify(
      buildCloudEvent('test', PoisonEvent, { n: 0, title: 'x'.repeat(2 * 1024 * 1024) }),
    );
    expect(Buffer.byteLength(huge)).toBeGreaterThan(nats.nc.info!.max_payload);
    const poison = await stageRaw(subject, huge);
    const outbox = new Outbox(SCHEMA, 'test');
    await dataSource.transaction(async (tx) => {
      for (const n of [1, 2]) await outbox.add(tx, PoisonEvent, { n });
    });
    const relay = new OutboxRelay({ databaseUrl: database.url, schema: SCHEMA }, nats, logger, metrics);
    relays.push(relay);
    relay.start();

    await eventually(async () => {
      const [{ pending }] = await dataSource.query(
        `SELECT count(*)::int AS pending FROM ${SCHEMA}.outbox
          WHERE published_at IS NULL AND parked_at IS NULL AND subject = $1`,
        [subject],
      );
      expect(pending).toBe(0);
    });
    const published = await readAll(subject);
    expect(published.map((m) => JSON.parse(Buffer.from(m.data).toString()).data.n)).toEqual([1, 2]);
    const parked = await outboxRow(poison.id);
    expect(parked).toMatchObject({ published_at: null, park_reason: 'MAX_PAYLOAD_EXCEEDED', attempts: 1 });
    expect(parked.parked_at).toBeInstanceOf(Date);
    expect(await relay.pending()).toBe(0);
    const listed = await listParkedOutboxRows(sqlOf(dataSource.manager), SCHEMA);
    expect(listed.find((row) => row.id === poison.id)).toMatchObject({
      eventId: poison.eventId,
      subject,
      parkReason: 'MAX_PAYLOAD_EXCEEDED',
      bytes: Buffer.byteLength(huge),
    });
    const exposition = await metrics.metrics();
    expect(exposition).toMatch(
      /outbox_parked_total\{reason="MAX_PAYLOAD_EXCEEDED",service="platform-test"\} [1-9]/,
    );
    expect(exposition).toMatch(/outbox_parked_rows\{service="platform-test"\} [1-9]/);
    expect(lines.some((line) => line.includes('outbox row parked') && line.includes(poison.eventId))).toBe(
      true,
    );
    // Replayed while still too large: parked again, never in the way.
    await replayParkedOutboxRows(sqlOf(dataSource.manager), SCHEMA, { ids: [poison.id] });
    await eventually(async () => expect((await outboxRow(poison.id)).parked_at).toBeInstanceOf(Date));
    await dataSource.query(`DELETE FROM ${SCHEMA}.outbox WHERE id = $1`, [poison.id]);
  });

  it('parks a row that keeps failing while later rows go through, and publishes it once replayed', async () => {
    // A subject no stream takes: JetStream answers no one, a failure that may pass, so it is counted.
    const orphanSubject = `integration-orphan.${uniqueName('s')}`;
    const event = buildCloudEvent('test', defineEvent<{ n: number }>('integration.relay.orphan'), { n: 1 });
    const orphan = await stageRaw(orphanSubject, JSON.stringify(event));
    const outbox = new Outbox(SCHEMA, 'test');
    const Later = defineEvent<{ n: number }>('integration.relay.later');
    const relay = new OutboxRelay(
      { databaseUrl: database.url, schema: SCHEMA, maxAttempts: 2 },
      nats,
      logger,
      metrics,
    );
    relays.push(relay);
    relay.start();
    const orphanStream = uniqueName('ORPHAN');
    try {
      // Rows keep arriving after it (each round publishes them); the orphan fails each time.
      await eventually(
        async () => {
          await dataSource.transaction((tx) => outbox.add(tx, Later, { n: 1 }));
          relay.wake();
          const row = await outboxRow(orphan.id);
          expect(row.park_reason).toBe('FAILED_2_TIMES');
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const parked = await outboxRow(orphan.id);
      expect(parked.attempts).toBe(2);
      expect(parked.last_error).toBeTruthy();
      const [{ stuck }] = await dataSource.query(
        `SELECT count(*)::int AS stuck FROM ${SCHEMA}.outbox WHERE published_at IS NULL AND subject = $1`,
        [Later.subject],
      );
      expect(stuck).toBeLessThanOrEqual(1); // at most the one staged last, not yet relayed

      // The cause goes away (a stream now takes the subject): the admin replays the row.
      await nats.jsm.streams.add({
        name: nats.naming.stream(orphanStream),
        subjects: [nats.naming.subject(orphanSubject)],
      });
      expect(await replayParkedOutboxRows(sqlOf(dataSource.manager), SCHEMA, 'all')).toContain(orphan.id);
      await eventually(async () => expect((await outboxRow(orphan.id)).published_at).toBeInstanceOf(Date));
      expect(await listParkedOutboxRows(sqlOf(dataSource.manager), SCHEMA)).toEqual([]);
    } finally {
      await nats.jsm.streams.delete(nats.naming.stream(orphanStream)).catch(() => undefined);
    }
  });

  it('refuses to stage an event too large to publish, in Outbox and InboxOutbox alike', async () => {
    const Big = defineEvent<{ title: string }>('integration.test.big');
    const title = 't'.repeat(MAX_OUTBOX_EVENT_BYTES);
    const outbox = new Outbox(SCHEMA, 'test');
    const refused = await dataSource
      .transaction((tx) => outbox.add(tx, Big, { title }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isAppError(refused) && refused.code).toBe('PAYLOAD_TOO_LARGE');
    expect(isAppError(refused) && !refused.transient).toBe(true);
    expect(isAppError(refused) && refused.details).toMatchObject({
      subject: Big.subject,
      limit: MAX_OUTBOX_EVENT_BYTES,
    });
    const ledger = new InboxOutbox(SCHEMA);
    await expect(
      dataSource.transaction((tx) =>
        ledger.claimAndStage(
          sqlOf(tx),
          'big-consumer',
          ['big-1'],
          [{ subject: Big.subject, event: buildCloudEvent('test', Big, { title }) }],
        ),
      ),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM ${SCHEMA}.outbox WHERE subject = $1`,
      [Big.subject],
    );
    expect(count).toBe(0);
    // Just below the bound it is staged.
    await dataSource.transaction((tx) =>
      outbox.add(tx, Big, { title: 't'.repeat(MAX_OUTBOX_EVENT_BYTES - 1_000) }),
    );
    await dataSource.query(`DELETE FROM ${SCHEMA}.outbox WHERE subject = $1`, [Big.subject]);
  });

  it('continues the trace of the publisher in the consumer', async () => {
    let consumerTraceId: string | undefined;
    await consume('test-trace', 'integration.trace.>', async () => {
      consumerTraceId = trace.getSpan(context.active())?.spanContext().traceId;
    }).start();
    const tracer = trace.getTracer('test');
    const producerTraceId = await tracer.startActiveSpan('incoming webhook', async (span) => {
      await publisher.publishRaw('integration.trace.a', '{}', { msgId: uniqueName('m') });
      span.end();
      return span.spanContext().traceId;
    });
    await eventually(() => expect(consumerTraceId).toBe(producerTraceId));
    const consumerSpan = exporter.getFinishedSpans().find((s) => s.name === 'test-trace process');
    expect(consumerSpan?.spanContext().traceId).toBe(producerTraceId);
  });

  it('never logs what it should not', () => {
    expect(lines.join('\n')).not.toMatch(/glpat-/);
  });
});
