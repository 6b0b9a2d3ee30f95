import 'reflect-metadata';

import { randomBytes } from 'node:crypto';

import type { CloudEvent, RequirementUpsertedV1 } from '@testkase/contracts';
import {
  CoreGrpcClient,
  createSimProject,
  eventually,
  freePort,
  NatsProbe,
  OtlpCollector,
  TestStack,
  type SimProject,
} from '@testkase/testing';

import { RealProjectLink } from './support/project-link';
import { allRequirements } from './support/requirements-api';

jest.setTimeout(180_000);

const PROJECT = 'tk-trace';

/**
 * One trace per webhook across the real processes (docs/ARCHITECTURE.md, "Telemetry"): gitlab-sim
 * sends the webhook, webhook-gateway publishes it, requirement-sync consumes it and stages
 * `testkase.requirement.upserted` in its outbox, and its relay publishes that event for TestKase
 * core. Every app exports its spans over OTLP/HTTP to a loopback collector.
 */
describe('tracing end to end', () => {
  let otlp: OtlpCollector;
  let stack: TestStack;
  let probe: NatsProbe;
  let link: RealProjectLink;
  let project: SimProject;
  let grpc: CoreGrpcClient;

  beforeAll(async () => {
    otlp = await OtlpCollector.start();
    const grpcPort = await freePort();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'trace_e2e',
      env: {
        'webhook-gateway': tracing,
        'connection-service': tracing,
        'requirement-sync': {
          ...tracing,
          SYNC_SCHEDULER_TICK: '200ms',
          BACKFILL_PROGRESS_INTERVAL: '200ms',
          GRPC_PORT: String(grpcPort),
        },
      },
    });
    link = new RealProjectLink(stack);
    grpc = new CoreGrpcClient('requirements', `127.0.0.1:${grpcPort}`, stack.coreToken);
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    project = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 3 } });
    await link.connect(PROJECT, project);
    await eventually(async () => expect(await allRequirements(stack, PROJECT)).toHaveLength(3), {
      timeoutMs: 60_000,
    });
  }, 150_000);

  afterAll(async () => {
    grpc?.close();
    await probe?.close();
    await link?.close();
    await stack?.stop();
    await otlp?.close();
  });

  it('follows an issue edit from the webhook through the gateway, NATS, requirement-sync and its outbox', async () => {
    const title = `Traced ${Date.now()}`;
    await project.sim.updateIssue(project.id, 2, { as: project.developer, title });
    const event = await eventually(
      async () => {
        const events = await probe.read<CloudEvent<RequirementUpsertedV1>>(
          'TESTKASE_EVENTS',
          'testkase.requirement.upserted',
        );
        const found = events.find((e) => e.data.data.requirement.title === title);
        expect(found).toBeDefined();
        return found!;
      },
      { timeoutMs: 30_000 },
    );
    const traceId = (event.headers['traceparent'] ?? '').slice(3, 35);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await eventually(
      () => {
        const ofTrace = otlp.trace(traceId);
        const relay = ofTrace.find(
          (s) =>
            s.service === 'requirement-sync' &&
            s.kind === 4 &&
            s.name.includes('testkase.requirement.upserted'),
        );
        expect(relay).toBeDefined();
        // Each app exports on its own schedule: wait for the gateway's spans too.
        expect(
          ofTrace
            .filter((s) => s.service === 'webhook-gateway')
            .map((s) => s.kind)
            .sort(),
        ).toEqual([2, 4]);
        return ofTrace;
      },
      { timeoutMs: 20_000 },
    );
    const one = (service: string, kind: number, name?: string) => {
      const found = spans.filter(
        (s) => s.service === service && s.kind === kind && (!name || s.name.includes(name)),
      );
      expect(found.map((s) => `${service} ${kind} ${s.name}`)).toHaveLength(1);
      return found[0]!;
    };
    const ingress = one('webhook-gateway', 2);
    const gatewayProducer = one('webhook-gateway', 4);
    const consumer = spans.find(
      (s) => s.service === 'requirement-sync' && s.kind === 5 && s.parentSpanId === gatewayProducer.spanId,
    );
    const relayProducer = one('requirement-sync', 4, 'testkase.requirement.upserted');

    expect(ingress.parentSpanId).toBe('');
    expect(gatewayProducer.parentSpanId).toBe(ingress.spanId);
    expect(consumer).toBeDefined();
    // The relay's producer descends from the consumer's work (directly, or through its inner spans).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors: string[] = [];
    for (let at = byId.get(relayProducer.parentSpanId); at; at = byId.get(at.parentSpanId))
      ancestors.push(at.spanId);
    expect(ancestors).toContain(consumer!.spanId);
    expect(event.headers['traceparent']?.slice(36, 52)).toBe(relayProducer.spanId);
  });

  it("continues TestKase core's trace in a gRPC call (an internal route honours its traceparent)", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const answer = await grpc.call('ListRequirements', { projectId: PROJECT, limit: 5 }, undefined, {
      traceparent: `00-${traceId}-${parentSpanId}-01`,
    });
    expect(answer.error).toBeUndefined();
    const server = await eventually(
      () => {
        const found = otlp.trace(traceId).find((s) => s.service === 'requirement-sync' && s.kind === 2);
        expect(found).toBeDefined();
        return found!;
      },
      { timeoutMs: 20_000 },
    );
    expect(server.parentSpanId).toBe(parentSpanId);
    expect(server.attributes['rpc.system']).toBe('grpc');
  });
});
