import 'reflect-metadata';

import { createTestEnvironment, eventually, OtlpCollector, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');
const CALLER_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const CALLER_TRACE_ID = CALLER_TRACEPARENT.slice(3, 35);

describe('webhook-gateway tracing (gateway from dist, OTLP to a loopback collector)', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;
  let otlp: OtlpCollector;

  beforeAll(async () => {
    otlp = await OtlpCollector.start();
    environment = await createTestEnvironment('gateway_trace');
    gateway = await GatewayHarness.start(
      gatewayEnv(environment, {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        WEBHOOK_UNKNOWN_CONNECTION_TTL: '0',
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
    await otlp?.close();
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
      const ofTrace = otlp.trace(traceId);
      expect(ofTrace.map((s) => s.kind)).toEqual(expect.arrayContaining([2, 4]));
      return ofTrace;
    });
    const server = spans.find((s) => s.kind === 2)!; // SERVER
    const producer = spans.find((s) => s.kind === 4)!; // PRODUCER
    expect(server.service).toBe('webhook-gateway');
    expect(server.parentSpanId).toBe('');
    expect(server.links.map((l) => l.traceId)).toEqual([CALLER_TRACE_ID]);
    expect(producer.parentSpanId).toBe(server.spanId);
    expect(carried.slice(36, 52)).toBe(producer.spanId);
    // No span of the caller's trace: it decided nothing.
    expect(otlp.trace(CALLER_TRACE_ID)).toEqual([]);
  });
});
