import { readFileSync } from 'node:fs';
import path from 'node:path';

import { packageVersion, startTracing, tracingEnabled } from './otel';

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
});
