import { loadConfig } from '@testkase/platform/config';
import { configVariables, envExampleVariables } from '@testkase/testing';

import { RequirementSyncConfig } from './requirement-sync.config';

describe('RequirementSyncConfig', () => {
  it('documents exactly the variables it reads in .env.example', () => {
    expect(envExampleVariables('requirement-sync')).toEqual(configVariables(RequirementSyncConfig));
  });

  it('needs only CORE_API_TOKEN; reconciles every 5 minutes, every minute for manual webhooks', () => {
    const config = loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 'token' });
    expect(config).toMatchObject({
      PORT: 3002,
      RECONCILE_INTERVAL: 300_000,
      RECONCILE_INTERVAL_MANUAL: 60_000,
      FULL_SWEEP_INTERVAL: 86_400_000,
      GITLAB_RATE_LIMITS: 'auto',
    });
    expect(() => loadConfig(RequirementSyncConfig, {})).toThrow(/CORE_API_TOKEN/);
  });

  it('reads durations and names a bad one', () => {
    expect(
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', RECONCILE_INTERVAL: '3s' }).RECONCILE_INTERVAL,
    ).toBe(3_000);
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', RECONCILE_INTERVAL: 'often' }),
    ).toThrow(/RECONCILE_INTERVAL/);
  });
});
