import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { node, tracing } from '@opentelemetry/sdk-node';
import type { DataSource } from 'typeorm';
import { request } from 'undici';

import { defineEvent, STREAMS } from '@testkase/contracts';
import { TransientError } from '@testkase/util';

import {
  createDataSource,
  ensureStreams,
  EventPublisher,
  JetStreamConsumer,
  MessagingTablesMigrationV1,
  MessagingTablesMigrationV2,
  MessagingTablesMigrationV3,
  MetricsRegistry,
  NatsClient,
  Outbox,
  OutboxRelay,
  poolOfDataSource,
  registerPoolMetrics,
  runMigrations,
  type InboundMessage,
} from '../src';
import { markUntrustedCarrier, untrustedIngressPropagator, withIngressSpan } from '../src/telemetry/ingress';
import { eventually, freshDatabase, memoryLogger, NATS_URL, uniqueName } from './helpers';

const SCHEMA = 'telemetry_test';

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
provider.register({ propagator: untrustedIngressPropagator() });
// The HTTP client instrumentation of the apps (undici, through diagnostics channels).
const undiciInstrumentation = new UndiciInstrumentation();
undiciInstrumentation.setTracerProvider(provider);
undiciInstrumentation.enable();

const Staged = defineEvent<{ n: number }>('integration.telemetry.staged');
const ATTACKER_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const metricValue = async (metrics: MetricsRegistry, name: string, labels: Record<string, string> = {}) => {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value;
};

describe('telemetry against the real NATS and Postgres', () => {
  const { logger, lines } = memoryLogger();
  const metrics = new MetricsRegistry('telemetry-test');
  let database: { url: string; drop: () => Promise<void> };
  let dataSource: DataSource;
  let nats: NatsClient;
  let publisher: EventPublisher;
  let gitlab: Server;
  let gitlabUrl = '';
  const gitlabRequests: IncomingHttpHeaders[] = [];
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
      applicationName: 'telemetry-test',
    });
    registerPoolMetrics(metrics, () => poolOfDataSource(dataSource));
    await dataSource.initialize();
    await runMigrations(dataSource);
    nats = new NatsClient({ servers: NATS_URL, name: 'telemetry-test', prefix }, logger, metrics);
    await nats.ready();
    await ensureStreams(nats.jsm, nats.naming, [STREAMS.INTEGRATION, STREAMS.DEAD_LETTERS]);
    publisher = new EventPublisher(nats);
    // A loopback server standing in for GitLab.
    gitlab = createServer((req, res) => {
      gitlabRequests.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"iid":7}');
    });
    await new Promise<void>((resolve) => gitlab.listen(0, '127.0.0.1', resolve));
    gitlabUrl = `http://127.0.0.1:${(gitlab.address() as { port: number }).port}`;
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
    await new Promise<void>((resolve) => gitlab.close(() => resolve()));
    undiciInstrumentation.disable();
    await provider.shutdown();
  });

  const consume = (
    durable: string,
    filterSubject: string,
    handler: (message: InboundMessage) => Promise<void>,
    options: { lagSampleMs?: number } = {},
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

  it('keeps one trace from the ingress through NATS, the outbox and its relay to the GitLab call', async () => {
    exporter.reset();
    const webhookSubject = `integration.telemetry.webhook.${uniqueName('c')}`;
    const handledBoth = new Promise<void>((resolve, reject) => {
      void consume(uniqueName('tel-a'), webhookSubject, async () => {
        logger.info('handling the webhook');
        const outbox = new Outbox(SCHEMA, 'telemetry-test');
        await dataSource.transaction((tx) => outbox.add(tx, Staged, { n: 1 }));
      })
        .start()
        .catch(reject);
      void consume(uniqueName('tel-b'), Staged.subject, async () => {
        const response = await request(`${gitlabUrl}/api/v4/projects/42/issues/7`);
        await response.body.text();
        resolve();
      })
        .start()
        .catch(reject);
    });
    const relay = new OutboxRelay({ databaseUrl: database.url, schema: SCHEMA }, nats, logger, metrics);
    relays.push(relay);
    relay.start();

    // A public route: the caller's traceparent is neither parent nor sampling decision.
    const ingressTraceId = await withIngressSpan(
      'POST /webhooks/gitlab/:connectionId',
      { traceparent: ATTACKER_TRACEPARENT },
      { trusted: false },
      async (span) => {
        await publisher.publishRaw(webhookSubject, '{}', { msgId: uniqueName('m') });
        return span.spanContext().traceId;
      },
    );
    await handledBoth;

    const spans = await eventually(() => {
      const finished = exporter.getFinishedSpans();
      // The GitLab call, and the consumer span around it (ended once the handler has settled).
      expect(finished.some((s) => s.kind === SpanKind.CLIENT)).toBe(true);
      expect(finished.some((s) => s.kind === SpanKind.CONSUMER && s.name.startsWith('tel-b'))).toBe(true);
      return finished;
    });
    const byKind = (kind: SpanKind, name?: string) =>
      spans.filter((s) => s.kind === kind && (name === undefined || s.name.startsWith(name)));
    const [ingress] = byKind(SpanKind.SERVER);
    const [webhookProducer] = byKind(SpanKind.PRODUCER, `publish ${webhookSubject}`);
    const [relayProducer] = byKind(SpanKind.PRODUCER, `publish ${Staged.subject}`);
    const [consumerA] = byKind(SpanKind.CONSUMER).filter((s) => s.name.startsWith('tel-a'));
    const [consumerB] = byKind(SpanKind.CONSUMER).filter((s) => s.name.startsWith('tel-b'));
    const [gitlabCall] = byKind(SpanKind.CLIENT);
    const chain = [ingress, webhookProducer, consumerA, relayProducer, consumerB, gitlabCall];
    expect(chain.map((s) => s?.name ?? 'missing')).not.toContain('missing');

    expect(ingressTraceId).not.toBe(ATTACKER_TRACEPARENT.slice(3, 35));
    expect(ingress!.parentSpanContext).toBeUndefined();
    expect(ingress!.links.map((l) => l.context.traceId)).toEqual([ATTACKER_TRACEPARENT.slice(3, 35)]);
    for (const span of chain) expect(span!.spanContext().traceId).toBe(ingressTraceId);
    // Each hop is the child of the one before: the relay's producer, of the consumer that staged it.
    const parentOf = (span: (typeof chain)[number]) => span!.parentSpanContext?.spanId;
    expect(parentOf(webhookProducer)).toBe(ingress!.spanContext().spanId);
    expect(parentOf(consumerA)).toBe(webhookProducer!.spanContext().spanId);
    expect(parentOf(relayProducer)).toBe(consumerA!.spanContext().spanId);
    expect(parentOf(consumerB)).toBe(relayProducer!.spanContext().spanId);
    expect(parentOf(gitlabCall)).toBe(consumerB!.spanContext().spanId);
    expect(relayProducer!.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': nats.naming.subject(Staged.subject),
    });
    expect(consumerB!.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': nats.naming.subject(Staged.subject),
    });
    // GitLab (the stand-in) received the trace too.
    expect(gitlabRequests.at(-1)?.['traceparent']?.slice(3, 35)).toBe(ingressTraceId);

    const [row] = await dataSource.query(`SELECT traceparent FROM ${SCHEMA}.outbox ORDER BY id DESC LIMIT 1`);
    expect(row.traceparent).toBe(`00-${ingressTraceId}-${consumerA!.spanContext().spanId}-01`);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'handling the webhook');
    expect(logged).toMatchObject({ traceId: ingressTraceId, spanId: consumerA!.spanContext().spanId });
  });

  it('extracts no parent from a carrier marked untrusted, and does from any other', () => {
    const untrusted = { traceparent: ATTACKER_TRACEPARENT };
    markUntrustedCarrier(untrusted);
    expect(trace.getSpanContext(propagation.extract(context.active(), untrusted))).toBeUndefined();
    expect(
      trace.getSpanContext(propagation.extract(context.active(), { traceparent: ATTACKER_TRACEPARENT }))
        ?.traceId,
    ).toBe(ATTACKER_TRACEPARENT.slice(3, 35));
  });

  it('counts redeliveries and samples the consumer lag from JetStream', async () => {
    const subject = `integration.telemetry.lag.${uniqueName('c')}`;
    const durable = uniqueName('tel-lag');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const seen = new Map<string, number>();
    const consumer = consume(
      durable,
      subject,
      async (message) => {
        const count = (seen.get(message.msgId ?? '') ?? 0) + 1;
        seen.set(message.msgId ?? '', count);
        if (message.msgId === 'first' && count === 1) throw new TransientError('try again');
        await held;
      },
      { lagSampleMs: 60_000 },
    );
    await consumer.start();
    for (const id of ['first', 'second', 'third']) await publisher.publishRaw(subject, '{}', { msgId: id });

    await eventually(async () => {
      expect(await metricValue(metrics, 'messages_redelivered_total', { consumer: durable })).toBe(1);
    });
    await eventually(async () => {
      await consumer.sampleLag();
      expect(await metricValue(metrics, 'nats_consumer_ack_pending_messages', { consumer: durable })).toBe(3);
      expect(await metricValue(metrics, 'nats_consumer_pending_messages', { consumer: durable })).toBe(0);
    });
    release();
    await eventually(async () => {
      await consumer.sampleLag();
      expect(await metricValue(metrics, 'nats_consumer_ack_pending_messages', { consumer: durable })).toBe(0);
    });
  });

  it('reports the NATS connection state and the database pool', async () => {
    expect(await metricValue(metrics, 'nats_connected')).toBe(1);
    expect(await metricValue(metrics, 'nats_reconnects_total')).toBe(0);
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT 1');
      expect(await metricValue(metrics, 'db_pool_connections')).toBeGreaterThanOrEqual(1);
      const total = (await metricValue(metrics, 'db_pool_connections')) ?? 0;
      const idle = (await metricValue(metrics, 'db_pool_idle_connections')) ?? 0;
      expect(total - idle).toBeGreaterThanOrEqual(1);
      expect(await metricValue(metrics, 'db_pool_waiting_clients')).toBe(0);
    } finally {
      await runner.release();
    }
    const scraped = await metrics.metrics();
    expect(scraped).toMatch(/^db_pool_connections\{service="telemetry-test"\} \d+$/m);
  });
});

/** A nats-server of this test's own on a free loopback port, so that it can be stopped and restarted. */
async function privateNats(): Promise<{
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  dispose: () => Promise<void>;
}> {
  const port = await new Promise<number>((resolve) => {
    const probe = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  const storeDir = mkdtempSync(path.join(tmpdir(), 'tk-nats-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: 'ignore',
    });
    await eventually(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = tcpConnect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        }),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

describe('NATS connection metrics across a server restart', () => {
  it('turns nats_connected to 0 while the server is away, and counts the reconnect', async () => {
    const server = await privateNats();
    const metrics = new MetricsRegistry('telemetry-test');
    const client = new NatsClient(
      { servers: server.url, name: 'telemetry-test', prefix: uniqueName('t') },
      memoryLogger().logger,
      metrics,
    );
    try {
      await client.ready();
      expect(await metricValue(metrics, 'nats_connected')).toBe(1);
      await server.stop();
      await eventually(async () => expect(await metricValue(metrics, 'nats_connected')).toBe(0), {
        timeoutMs: 20_000,
      });
      await server.start();
      await eventually(
        async () => {
          expect(await metricValue(metrics, 'nats_connected')).toBe(1);
          expect(await metricValue(metrics, 'nats_reconnects_total')).toBe(1);
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await client.close();
      await server.dispose();
    }
  });
});
