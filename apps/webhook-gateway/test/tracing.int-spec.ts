import 'reflect-metadata';

import { createServer, type Server } from 'node:http';

import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');
const CALLER_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const CALLER_TRACE_ID = CALLER_TRACEPARENT.slice(3, 35);

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** OTLP/JSON ids are hex; a base64 encoder gives 16/8 bytes instead: both read as hex here. */
const hex = (id: string | undefined): string =>
  !id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex');

/** A loopback OTLP/HTTP collector: keeps the spans of every `POST /v1/traces` (JSON). */
async function collector(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
        };
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans };
}

describe('webhook-gateway tracing (gateway from dist, OTLP to a loopback collector)', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;
  let otlp: Awaited<ReturnType<typeof collector>>;

  beforeAll(async () => {
    otlp = await collector();
    environment = await createTestEnvironment('gateway_trace');
    gateway = await GatewayHarness.start(
      gatewayEnv(environment, {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        WEBHOOK_UNKNOWN_CONNECTION_TTL: '0',
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
    await new Promise<void>((resolve) => otlp?.server.close(() => resolve()));
  });

  it("starts a new root per webhook, links the caller's traceparent, and puts the producer's on the event", async () => {
    const connection = await gateway.connect();
    expect((await gateway.deliver(connection, ISSUE, { traceparent: CALLER_TRACEPARENT })).status).toBe(202);
    const [message] = await gateway.events(connection.connectionId);
    const carried = message!.headers['traceparent'] ?? '';
    const traceId = carried.slice(3, 35);
    expect(traceId).not.toBe(CALLER_TRACE_ID);
    // Sampled by our own sampler (parentbased_always_on, new root), not by the caller's flag.
    expect(carried).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const spans = await eventually(() => {
      const ofTrace = otlp.spans.filter((s) => hex(s.traceId) === traceId);
      expect(ofTrace.map((s) => s.kind)).toEqual(expect.arrayContaining([2, 4]));
      return ofTrace;
    });
    const server = spans.find((s) => s.kind === 2)!; // SPAN_KIND_SERVER
    const producer = spans.find((s) => s.kind === 4)!; // SPAN_KIND_PRODUCER
    expect(hex(server.parentSpanId)).toBe('');
    expect((server.links ?? []).map((l) => hex(l.traceId))).toEqual([CALLER_TRACE_ID]);
    expect(hex(producer.parentSpanId)).toBe(hex(server.spanId));
    expect(carried.slice(36, 52)).toBe(hex(producer.spanId));
    // No span of the caller's trace: it decided nothing.
    expect(otlp.spans.filter((s) => hex(s.traceId) === CALLER_TRACE_ID)).toEqual([]);
  });
});
