import { context, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { AckPolicy, DeliverPolicy, type JsMsg } from 'nats';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

import { defineEvent, HEADERS, STREAMS } from '@testkase/contracts';
import { ValidationError } from '@testkase/util';

import {
  buildCloudEvent,
  createDataSource,
  ensureStreams,
  EventPublisher,
  Inbox,
  InboxOutbox,
  JetStreamConsumer,
  MessagingTablesMigrationV1,
  MetricsRegistry,
  NatsClient,
  Outbox,
  OutboxRelay,
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
      migrations: [CreateMessagingTables1700000000000],
      applicationName: 'platform-test',
    });
    await dataSource.initialize();
    expect(await runMigrations(dataSource)).toEqual(['CreateMessagingTables1700000000000']);
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
    options: { maxDeliver?: number; ackWaitMs?: number } = {},
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

  it("purges the schema's inbox entries past their retention on the relay's leader, and keeps the rest", async () => {
    await dataSource.query(
      `INSERT INTO ${SCHEMA}.inbox (consumer, event_id, processed_at)
       VALUES ('retention', 'old', now() - interval '31 days'), ('retention', 'recent', now() - interval '29 days')`,
    );
    const relay = new OutboxRelay({ databaseUrl: database.url, schema: SCHEMA }, nats, logger, metrics);
    relays.push(relay);
    relay.start();
    await eventually(async () => {
      const rows = await dataSource.query(
        `SELECT event_id FROM ${SCHEMA}.inbox WHERE consumer = 'retention' ORDER BY event_id`,
      );
      expect(rows.map((row: { event_id: string }) => row.event_id)).toEqual(['recent']);
    });
    await relay.stop();
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
