import { sleep } from '@testkase/util';

import { clientFor, closeClients } from '../../../test/client-under-test';
import { FakeGitlab } from '../../../test/fake-gitlab.server';
import { GitlabLimiterRegistry } from './limiter-registry';
import type { GitlabRateLimits } from './rate-limits';

/** One request per 800 ms: a request leaves the limiter busy for that long. */
const ONE_PER_800_MS: GitlabRateLimits = {
  requests: { points: 1, durationSeconds: 0.8 },
  issueCreates: null,
  noteCreates: null,
};

describe('GitlabLimiterRegistry', () => {
  let fake: FakeGitlab;

  beforeAll(async () => {
    fake = await FakeGitlab.start();
    fake.on('GET', '/api/v4/user', { json: { id: 1, username: 'root' } });
  });
  afterEach(() => closeClients());
  afterAll(() => fake.close());

  it('drops a token at once when its last client closes before it sent anything (a token never used)', async () => {
    const registry = new GitlabLimiterRegistry();
    const tokens = Array.from({ length: 50 }, (_, i) => `glpat-unvalidated-token-${i}`);
    const clients = tokens.map((token) => clientFor(fake, { limiterRegistry: registry, token }));
    expect(registry.size).toBe(50);

    await Promise.all(clients.map((client) => client.close()));

    expect(registry.size).toBe(0);
  });

  it('keeps a closed token until its budget is back to full, so a new client still waits its turn', async () => {
    const registry = new GitlabLimiterRegistry();
    const first = clientFor(fake, { limiterRegistry: registry, limits: ONE_PER_800_MS });
    await first.users.current();
    await first.close();
    expect(registry.size).toBe(1);

    const second = clientFor(fake, { limiterRegistry: registry, limits: ONE_PER_800_MS });
    expect(second.rateLimit.wouldWait('request')).toBeGreaterThan(300);
    await second.close();

    await sleep(1_000);
    expect(registry.size).toBe(0);
  });

  it('never drops a token a client still holds', async () => {
    const registry = new GitlabLimiterRegistry({ maxIdleEntries: 0 });
    const held = clientFor(fake, { limiterRegistry: registry, limits: ONE_PER_800_MS });
    await held.users.current();
    await clientFor(fake, { limiterRegistry: registry, limits: ONE_PER_800_MS }).close();
    await clientFor(fake, { limiterRegistry: registry, token: 'glpat-other-token' }).close();
    await sleep(1_000);

    expect(registry.size).toBe(1);
    const again = clientFor(fake, { limiterRegistry: registry, limits: ONE_PER_800_MS });
    await again.users.current();
    expect(registry.size).toBe(1);
  });

  it('keeps at most maxIdleEntries closed tokens that still remember a wait, the least recent going first', async () => {
    const registry = new GitlabLimiterRegistry({ maxIdleEntries: 3 });
    for (let i = 0; i < 10; i++) {
      const client = clientFor(fake, {
        limiterRegistry: registry,
        limits: ONE_PER_800_MS,
        token: `glpat-token-${i}`,
      });
      await client.users.current();
      await client.close();
    }
    expect(registry.size).toBe(3);
    // The newest survive: a new client of token 9 still waits, one of token 0 does not.
    const newest = clientFor(fake, {
      limiterRegistry: registry,
      limits: ONE_PER_800_MS,
      token: 'glpat-token-9',
    });
    const oldest = clientFor(fake, {
      limiterRegistry: registry,
      limits: ONE_PER_800_MS,
      token: 'glpat-token-0',
    });
    expect(newest.rateLimit.wouldWait('request')).toBeGreaterThan(0);
    expect(oldest.rateLimit.wouldWait('request')).toBe(0);
  });
});
