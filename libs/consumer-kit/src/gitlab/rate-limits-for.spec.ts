import { GITLAB_COM_RATE_LIMITS, SELF_MANAGED_RATE_LIMITS } from '@testkase/gitlab';
import { loadConfig } from '@testkase/platform/config';

import { GitlabConsumerConfig } from '../config/gitlab-consumer.config';
import { rateLimitsFor } from './gitlab-access.service';

describe('rateLimitsFor', () => {
  it("picks GitLab.com's figures for gitlab.com under auto, self-managed ones elsewhere", () => {
    expect(rateLimitsFor('auto', 'https://gitlab.com')).toEqual(GITLAB_COM_RATE_LIMITS);
    expect(rateLimitsFor('auto', 'https://gitlab.example.org')).toEqual(SELF_MANAGED_RATE_LIMITS);
    expect(rateLimitsFor('gitlab.com', 'https://gitlab.example.org')).toEqual(GITLAB_COM_RATE_LIMITS);
    expect(rateLimitsFor('self-managed', 'https://gitlab.com')).toEqual(SELF_MANAGED_RATE_LIMITS);
  });

  it("replaces a preset's figure per limit, and 0 lifts the client-side limit", () => {
    expect(
      rateLimitsFor('gitlab.com', 'https://gitlab.com', { noteCreatesPerMinute: 300, requestsPerMinute: 0 }),
    ).toEqual({
      requests: null,
      issueCreates: GITLAB_COM_RATE_LIMITS.issueCreates,
      noteCreates: { points: 300, durationSeconds: 60 },
    });
    expect(
      rateLimitsFor('self-managed', 'https://x.test', { issueCreatesPerMinute: 50 }).issueCreates,
    ).toEqual({
      points: 50,
      durationSeconds: 60,
    });
  });

  it('reads the overrides from the environment and refuses nonsense', () => {
    const config = loadConfig(GitlabConsumerConfig, {
      CORE_API_TOKEN: 'token',
      GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE: '120',
    });
    expect(config.GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE).toBe(120);
    expect(config.GITLAB_RATE_LIMIT_REQUESTS_PER_MINUTE).toBeUndefined();
    for (const bad of ['-1', 'fast', '1.5'])
      expect(() =>
        loadConfig(GitlabConsumerConfig, {
          CORE_API_TOKEN: 'token',
          GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE: bad,
        }),
      ).toThrow(/GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE/);
  });
});
