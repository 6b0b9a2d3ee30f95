import { ConfigError } from '@testkase/platform';

import { loadSimConfig } from './sim.config';

describe('gitlab-sim configuration', () => {
  it('defaults to the demo on 127.0.0.1:3080 with rate limits off', () => {
    expect(loadSimConfig({})).toMatchObject({
      PORT: 3080,
      HOST: '127.0.0.1',
      GITLAB_SIM_SEED_DEMO: true,
      GITLAB_SIM_MAINTAINER_TOKEN: 'glpat-sim-maintainer-0000000001',
      GITLAB_SIM_DEVELOPER_TOKEN: 'glpat-sim-developer-0000000002',
      GITLAB_SIM_RATE_LIMITS: 'off',
      GITLAB_SIM_LEGACY_PAYLOADS: false,
    });
  });

  it('names every bad variable', () => {
    let caught: unknown;
    try {
      loadSimConfig({
        PORT: '-1',
        GITLAB_SIM_RATE_LIMITS: 'github.com',
        GITLAB_SIM_VERSION: 'latest',
        GITLAB_SIM_RATE_LIMIT_NOTE_CREATES_PER_MINUTE: 'many',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    for (const variable of [
      'PORT',
      'GITLAB_SIM_RATE_LIMITS',
      'GITLAB_SIM_VERSION',
      'GITLAB_SIM_RATE_LIMIT_NOTE_CREATES_PER_MINUTE',
    ]) {
      expect((caught as Error).message).toContain(`${variable}:`);
    }
  });
});
