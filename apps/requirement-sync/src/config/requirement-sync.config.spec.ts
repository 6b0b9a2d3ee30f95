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

  it('polls manual connections without a delivery every 15 s unless told otherwise, never below 1 s', () => {
    expect(loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't' }).POLL_INTERVAL_NO_HOOK).toBe(15_000);
    expect(
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', POLL_INTERVAL_NO_HOOK: '2s' })
        .POLL_INTERVAL_NO_HOOK,
    ).toBe(2_000);
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', POLL_INTERVAL_NO_HOOK: '500ms' }),
    ).toThrow(/POLL_INTERVAL_NO_HOOK/);
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', POLL_INTERVAL_NO_HOOK: 'soon' }),
    ).toThrow(/POLL_INTERVAL_NO_HOOK/);
  });

  it('checks for deleted issues hourly and distrusts GitLab times over 2 minutes ahead, unless told otherwise', () => {
    expect(loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't' })).toMatchObject({
      DELETION_CHECK_INTERVAL: 3_600_000,
      GITLAB_CLOCK_SKEW: 120_000,
    });
    expect(
      loadConfig(RequirementSyncConfig, {
        CORE_API_TOKEN: 't',
        DELETION_CHECK_INTERVAL: '2s',
        GITLAB_CLOCK_SKEW: '0',
      }),
    ).toMatchObject({ DELETION_CHECK_INTERVAL: 2_000, GITLAB_CLOCK_SKEW: 0 });
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', DELETION_CHECK_INTERVAL: '500ms' }),
    ).toThrow(/DELETION_CHECK_INTERVAL/);
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', GITLAB_CLOCK_SKEW: 'a bit' }),
    ).toThrow(/GITLAB_CLOCK_SKEW/);
  });

  it('gives a backfill slot back every 2 s unless told otherwise, never below 100 ms', () => {
    expect(loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't' }).BACKFILL_SLICE).toBe(2_000);
    expect(
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', BACKFILL_SLICE: '250ms' }).BACKFILL_SLICE,
    ).toBe(250);
    expect(() => loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', BACKFILL_SLICE: '10ms' })).toThrow(
      /BACKFILL_SLICE/,
    );
    expect(() =>
      loadConfig(RequirementSyncConfig, { CORE_API_TOKEN: 't', BACKFILL_SLICE: 'a while' }),
    ).toThrow(/BACKFILL_SLICE/);
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
