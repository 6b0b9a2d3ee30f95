import { loadConfig } from '@testkase/platform/config';
import { configVariables, envExampleVariables } from '@testkase/testing';

import { DefectSyncConfig } from './defect-sync.config';

describe('DefectSyncConfig', () => {
  it('documents exactly the variables it reads in .env.example', () => {
    expect(envExampleVariables('defect-sync')).toEqual(configVariables(DefectSyncConfig));
  });

  it('needs only CORE_API_TOKEN; the rest has defaults', () => {
    const config = loadConfig(DefectSyncConfig, { CORE_API_TOKEN: 'token' });
    expect(config.PORT).toBe(3003);
    expect(config.GITLAB_ALLOW_PRIVATE_NETWORK).toBe(false);
    expect(() => loadConfig(DefectSyncConfig, {})).toThrow(/CORE_API_TOKEN/);
  });
});
