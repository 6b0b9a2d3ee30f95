import { loadConfig } from '@testkase/platform/config';
import { configVariables, envExampleVariables } from '@testkase/testing';

import { GatewayConfig } from './webhook-gateway.config';

describe('GatewayConfig', () => {
  it('documents exactly the variables it reads in .env.example', () => {
    expect(envExampleVariables('webhook-gateway')).toEqual(configVariables(GatewayConfig));
  });

  it('starts with defaults only (no core token: the gateway serves GitLab, not TestKase core)', () => {
    expect(loadConfig(GatewayConfig, {}).PORT).toBe(3000);
  });

  it('reads sizes in KiB, MiB, GiB or bytes, and refuses an in-flight limit below one GitLab body', () => {
    const config = loadConfig(GatewayConfig, {
      WEBHOOK_INFLIGHT_BYTES: '1GiB',
      WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION: String(30 * 1024 * 1024),
      SPOOL_PARKED_MAX_BYTES: '512KiB',
      SPOOL_PARKED_RETENTION: '24h',
    });
    expect(config.WEBHOOK_INFLIGHT_BYTES).toBe(1024 ** 3);
    expect(config.WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION).toBe(30 * 1024 * 1024);
    expect(config.SPOOL_PARKED_MAX_BYTES).toBe(512 * 1024);
    expect(config.SPOOL_PARKED_RETENTION).toBe(24 * 3_600_000);
    expect(() => loadConfig(GatewayConfig, { WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION: '1MiB' })).toThrow(
      /WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION/,
    );
  });

  it('reads the pending spool quota per connection, and names it when the value is not a size', () => {
    expect(loadConfig(GatewayConfig, {}).SPOOL_PENDING_MAX_BYTES_PER_CONNECTION).toBe(1024 ** 3);
    expect(
      loadConfig(GatewayConfig, { SPOOL_PENDING_MAX_BYTES_PER_CONNECTION: '64MiB' })
        .SPOOL_PENDING_MAX_BYTES_PER_CONNECTION,
    ).toBe(64 * 1024 * 1024);
    for (const bad of ['lots', '0', '-1MiB', '1.5GiB', '2048TiB'])
      expect(() => loadConfig(GatewayConfig, { SPOOL_PENDING_MAX_BYTES_PER_CONNECTION: bad })).toThrow(
        /SPOOL_PENDING_MAX_BYTES_PER_CONNECTION/,
      );
  });
});
