import { readFileSync } from 'node:fs';
import path from 'node:path';

import { context, propagation, trace } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';

import { packageVersion, startTracing, tracingEnabled } from './otel';

/** Starts the SDK with an in-memory exporter under `env` (the SDK reads process.env itself). */
async function recordedUnder(env: Record<string, string>): Promise<tracing.ReadableSpan[]> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const exporter = new tracing.InMemorySpanExporter();
  const sdk = startTracing({ serviceName: 'default-name', exporter });
  try {
    trace.getTracer('test').startSpan('work').end();
    return exporter.getFinishedSpans();
  } finally {
    await sdk?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    process.env = saved;
  }
}

describe('startTracing and the standard OTEL_* variables', () => {
  it('is off without an endpoint, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingEnabled({ serviceName: 's', env: {} })).toBe(false);
    expect(tracingEnabled({ serviceName: 's', otlpEndpoint: 'http://127.0.0.1:4318', env: {} })).toBe(true);
    expect(
      tracingEnabled({
        serviceName: 's',
        env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' },
      }),
    ).toBe(true);
    expect(
      tracingEnabled({
        serviceName: 's',
        otlpEndpoint: 'http://127.0.0.1:4318',
        env: { OTEL_SDK_DISABLED: 'true' },
      }),
    ).toBe(false);
    expect(
      tracingEnabled({
        serviceName: 's',
        otlpEndpoint: 'http://127.0.0.1:4318',
        env: { OTEL_TRACES_EXPORTER: 'none' },
      }),
    ).toBe(false);
    expect(
      startTracing({
        serviceName: 's',
        otlpEndpoint: 'http://127.0.0.1:4318',
        env: { OTEL_SDK_DISABLED: 'true' },
      }),
    ).toBeUndefined();
  });

  it('takes service.version from package.json', () => {
    const root = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(packageVersion()).toBe(root.version);
  });

  it('honours OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, and sets service.version', async () => {
    const [span] = await recordedUnder({
      OTEL_SERVICE_NAME: 'renamed',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
    });
    expect(span?.resource.attributes).toMatchObject({
      'service.name': 'renamed',
      'service.version': packageVersion(),
      'deployment.environment.name': 'staging',
    });
    const [defaulted] = await recordedUnder({});
    expect(defaulted?.resource.attributes['service.name']).toBe('default-name');
  });

  it('honours OTEL_TRACES_SAMPLER', async () => {
    expect(await recordedUnder({ OTEL_TRACES_SAMPLER: 'always_off' })).toHaveLength(0);
    expect(await recordedUnder({ OTEL_TRACES_SAMPLER: 'always_on' })).toHaveLength(1);
  });
});
