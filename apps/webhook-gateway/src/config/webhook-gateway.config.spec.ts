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
});
