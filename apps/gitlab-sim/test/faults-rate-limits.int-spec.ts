import { GitlabSimError } from '@testkase/testing';

import { enc, startTestSim, type TestSim } from './helpers/test-sim';

describe('fault injection and rate limits', () => {
  let t: TestSim;
  let token: string;
  const project = 'faults/app';
  const issues = `/projects/${enc(project)}/issues`;

  beforeAll(async () => {
    t = await startTestSim();
    await t.client.createUser({ username: 'fred' });
    await t.client.createProject({ path: project });
    await t.client.addMember({ project, username: 'fred', accessLevel: 40 });
    token = (await t.client.createToken({ username: 'fred' })).token;
    await t.client.createIssue(project, { as: 'fred', title: 'Existing' });
  });

  afterAll(() => t.close());

  afterEach(async () => {
    await t.client.clearFaults();
    await t.client.setRateLimits({ preset: 'off' });
    await t.client.resetClock();
  });

  describe('faults', () => {
    it('answers the next N matching requests with an injected 5xx, then recovers', async () => {
      const fault = await t.client.addFault({
        method: 'GET',
        path: '/api/v4/projects/*/issues',
        kind: 'status',
        status: 503,
        count: 2,
      });
      const first = await t.api('GET', issues, { token });
      const second = await t.api('GET', issues, { token });
      const third = await t.api('GET', issues, { token });
      expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
      expect(first.body).toEqual({ message: '503 Service Unavailable' });
      expect((await t.client.faults()).find((item) => item.id === fault.id)?.hits).toBe(2);
      // Other methods and paths are untouched.
      expect((await t.api('GET', `/projects/${enc(project)}`, { token })).status).toBe(200);
    });

    it('injects a 429 with Retry-After', async () => {
      await t.client.addFault({ path: '/api/v4/projects/**', kind: 'rate_limit', retryAfter: 7, count: 1 });
      const response = await t.api('GET', issues, { token });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(response.text).toBe('Retry later\n');
    });

    it('adds latency before answering normally', async () => {
      await t.client.addFault({ path: '/api/v4/user', kind: 'latency', latencyMs: 300, count: 1 });
      const started = performance.now();
      const response = await t.api('GET', '/user', { token });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('never answers on `timeout` (the client gives up) and resets the connection on `drop`', async () => {
      await t.client.addFault({ path: '/api/v4/user', kind: 'timeout', count: 1 });
      await expect(
        fetch(`${t.url}/api/v4/user`, {
          headers: { 'private-token': token },
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toThrow();
      await t.client.addFault({ path: '/api/v4/user', kind: 'drop', count: 1 });
      await expect(fetch(`${t.url}/api/v4/user`, { headers: { 'private-token': token } })).rejects.toThrow(
        /fetch failed/,
      );
      expect((await t.api('GET', '/user', { token })).status).toBe(200);
    });

    it('applies a fault with a probability', async () => {
      await t.client.addFault({ path: '/api/v4/user', kind: 'status', status: 500, probability: 0 });
      for (let n = 0; n < 5; n += 1) expect((await t.api('GET', '/user', { token })).status).toBe(200);
      await t.client.clearFaults();
      await t.client.addFault({ path: '/api/v4/user', kind: 'status', status: 500, probability: 1 });
      expect((await t.api('GET', '/user', { token })).status).toBe(500);
    });

    it('rejects an invalid fault', async () => {
      await expect(t.client.addFault({ path: '/x', kind: 'status', status: 42 })).rejects.toBeInstanceOf(
        GitlabSimError,
      );
    });
  });

  describe('rate limits', () => {
    it('are off by default: no RateLimit-* headers', async () => {
      const response = await t.api('GET', '/user', { token });
      expect(response.headers.get('ratelimit-limit')).toBeNull();
    });

    it('throttles authenticated API requests per user with RateLimit-* headers and a plain-text 429', async () => {
      await t.client.setRateLimits({ requestsPerMinute: 3 });
      const responses = [];
      for (let n = 0; n < 4; n += 1) responses.push(await t.api('GET', '/user', { token }));
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429]);
      expect(responses[0]!.headers.get('ratelimit-name')).toBe('throttle_authenticated_api');
      expect(responses[0]!.headers.get('ratelimit-limit')).toBe('3');
      expect(responses[2]!.headers.get('ratelimit-remaining')).toBe('0');
      const limited = responses[3]!;
      expect(limited.text).toBe('Retry later\n');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
      expect(limited.headers.get('ratelimit-resettime')).toMatch(/GMT$/);
      await t.client.advanceClock(60_000);
      expect((await t.api('GET', '/user', { token })).status).toBe(200);
    });

    it('limits issue creation with the application-limit body and Retry-After', async () => {
      await t.client.setRateLimits({ issueCreatesPerMinute: 2 });
      const statuses = [];
      let last;
      for (let n = 0; n < 3; n += 1) {
        last = await t.api('POST', issues, { token, body: { title: `Burst ${n}` } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([201, 201, 429]);
      expect(last!.body).toEqual({
        message: { error: 'This endpoint has been requested too many times. Try again later.' },
      });
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('limits note creation per user', async () => {
      await t.client.setRateLimits({ noteCreatesPerMinute: 1 });
      const first = await t.api('POST', `${issues}/1/notes`, { token, body: { body: 'one' } });
      const second = await t.api('POST', `${issues}/1/notes`, { token, body: { body: 'two' } });
      expect([first.status, second.status]).toEqual([201, 429]);
    });

    it('takes per-limit overrides of the preset from the configuration', async () => {
      const configured = await startTestSim({
        GITLAB_SIM_RATE_LIMITS: 'gitlab.com',
        GITLAB_SIM_RATE_LIMIT_NOTE_CREATES_PER_MINUTE: '300',
        GITLAB_SIM_RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
      });
      try {
        expect(await configured.client.rateLimits()).toEqual({
          requestsPerMinute: null,
          issueCreatesPerMinute: 200,
          noteCreatesPerMinute: 300,
          hookTestsPerMinute: 5,
        });
      } finally {
        await configured.close();
      }
    });

    it('has the GitLab.com preset', async () => {
      const limits = await t.client.setRateLimits({ preset: 'gitlab.com' });
      expect(limits).toEqual({
        requestsPerMinute: 2000,
        issueCreatesPerMinute: 200,
        noteCreatesPerMinute: 60,
        hookTestsPerMinute: 5,
      });
      const response = await t.api('GET', '/user', { token });
      expect(response.headers.get('ratelimit-limit')).toBe('2000');
    });
  });
});
