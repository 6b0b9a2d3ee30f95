import { loadConfig } from '@testkase/platform/config';
import { configVariables, envExampleVariables } from '@testkase/testing';

import { CommentRelayConfig } from './comment-relay.config';

describe('CommentRelayConfig', () => {
  it('documents exactly the variables it reads in .env.example', () => {
    expect(envExampleVariables('comment-relay')).toEqual(configVariables(CommentRelayConfig));
  });

  it('needs only CORE_API_TOKEN; the rest has defaults', () => {
    const config = loadConfig(CommentRelayConfig, { CORE_API_TOKEN: 'token' });
    expect(config.PORT).toBe(3004);
    expect(config.GITLAB_ALLOW_PRIVATE_NETWORK).toBe(false);
    expect(() => loadConfig(CommentRelayConfig, {})).toThrow(/CORE_API_TOKEN/);
  });
});
