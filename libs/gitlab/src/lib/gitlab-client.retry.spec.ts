import { createServer } from 'node:net';

import {
  appErrorFrom,
  clientFor,
  closeClients,
  recordingLogger,
  type LogLine,
} from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';
import { GitlabLimiterRegistry } from './rate-limit/limiter-registry';

const USER = { id: 1, username: 'bot', name: 'Bot', state: 'active', web_url: 'x', avatar_url: null };
const CREATED_ISSUE = { id: 501, iid: 5, title: 'New', labels: [] };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('GitLab client retries and rate limits', () => {
  let fake: FakeGitlab;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  describe('429', () => {
    it('waits for Retry-After before retrying', async () => {
      fake.on(
        'GET',
        '/api/v4/user',
        { status: 429, headers: { 'retry-after': '1' }, text: 'Retry later' },
        { json: USER },
      );
      const logs: LogLine[] = [];
      const client = clientFor(fake, { logger: recordingLogger(logs) });

      const user = await client.users.current();

      expect(user.username).toBe('bot');
      const [first, second] = fake.requests;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
      expect(
        logs.some((l) => l.level === 'warn' && l.obj['status'] === 429 && l.obj['waitMs'] === 1000),
      ).toBe(true);
    });

    it('gives up with RATE_LIMITED after the attempt bound, keeping GitLab plain-text message', async () => {
      fake.on('GET', '/api/v4/user', { status: 429, headers: { 'retry-after': '0' }, text: 'Retry later' });
      const client = clientFor(fake);

      const error = await appErrorFrom(client.users.current());

      expect(error.code).toBe('RATE_LIMITED');
      expect(error.transient).toBe(true);
      expect(error.message).toContain('Retry later');
      expect(error.details).toMatchObject({ status: 429, attempts: 3 });
      expect(fake.requests).toHaveLength(3);
    });

    it('does not sleep through a Retry-After longer than the wait budget: fails at once with retryAfterMs', async () => {
      fake.on('GET', '/api/v4/user', {
        status: 429,
        headers: { 'retry-after': '3600' },
        text: 'Retry later',
      });
      const client = clientFor(fake);

      const error = await appErrorFrom(client.users.current());

      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterMs).toBe(3_600_000);
      expect(fake.requests).toHaveLength(1);
    });

    it('retries a POST that got 429, since GitLab did not process it', async () => {
      fake.on(
        'POST',
        '/api/v4/projects/42/issues',
        {
          status: 429,
          headers: { 'retry-after': '0' },
          json: { message: { error: 'This endpoint has been requested too many times. Try again later.' } },
        },
        { status: 201, json: CREATED_ISSUE },
      );
      const client = clientFor(fake);

      const created = await client.issues.create(42, { title: 'New' });

      expect(created.iid).toBe(5);
      expect(fake.requests).toHaveLength(2);
    });
  });

  describe('RateLimit-Remaining / RateLimit-Reset', () => {
    it('pauses the token until the reset time once the quota is exhausted, across clients of that token', async () => {
      const resetAt = Math.ceil(Date.now() / 1000) + 1;
      fake.on(
        'GET',
        '/api/v4/user',
        { json: USER, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': String(resetAt) } },
        { json: USER },
      );
      const registry = new GitlabLimiterRegistry();
      const first = clientFor(fake, { limiterRegistry: registry });
      const second = clientFor(fake, { limiterRegistry: registry });

      await first.users.current();
      await second.users.current();

      expect(fake.requests).toHaveLength(2);
      expect(fake.requests[1]!.at).toBeGreaterThanOrEqual(resetAt * 1000 - 10);
    });
  });

  describe('5xx', () => {
    it('retries a GET after 503 and returns the later success', async () => {
      fake.on(
        'GET',
        '/api/v4/projects/42/issues/5',
        { status: 503, text: 'upstream down' },
        { json: CREATED_ISSUE },
      );
      const client = clientFor(fake);

      const issue = await client.issues.get(42, 5);

      expect(issue.id).toBe(501);
      expect(fake.requests).toHaveLength(2);
    });

    it('does not retry a POST after 503: transient GITLAB_UNAVAILABLE, outcome unknown to the caller', async () => {
      fake.on(
        'POST',
        '/api/v4/projects/42/issues',
        { status: 503, text: 'upstream down' },
        { status: 201, json: CREATED_ISSUE },
      );
      const client = clientFor(fake);

      const error = await appErrorFrom(client.issues.create(42, { title: 'New' }));

      expect(error.code).toBe('GITLAB_UNAVAILABLE');
      expect(error.transient).toBe(true);
      expect(error.details).toMatchObject({ status: 503, outcomeUnknown: true });
      expect(fake.requests).toHaveLength(1);
    });

    it('gives up on a GET that keeps failing with GITLAB_UNAVAILABLE after the attempt bound', async () => {
      fake.on('GET', '/api/v4/user', { status: 500, json: { message: '500 Internal Server Error' } });
      const client = clientFor(fake);

      const error = await appErrorFrom(client.users.current());

      expect(error.code).toBe('GITLAB_UNAVAILABLE');
      expect(error.message).toContain('500 Internal Server Error');
      expect(fake.requests).toHaveLength(3);
    });
  });

  describe('network failures', () => {
    it('maps a timeout to INSTANCE_UNREACHABLE naming it, after retrying the GET', async () => {
      fake.on('GET', '/api/v4/user', { hang: true });
      const client = clientFor(fake, { timeoutMs: 200 });

      const error = await appErrorFrom(client.users.current());

      expect(error.code).toBe('INSTANCE_UNREACHABLE');
      expect(error.transient).toBe(true);
      expect(error.message).toContain('timed out after 200 ms');
      expect(fake.requests).toHaveLength(3);
    });

    it('does not resend a POST that timed out (GitLab may have created the issue)', async () => {
      fake.on('POST', '/api/v4/projects/42/issues', { hang: true });
      const client = clientFor(fake, { timeoutMs: 200 });

      const error = await appErrorFrom(client.issues.create(42, { title: 'New' }));

      expect(error.code).toBe('INSTANCE_UNREACHABLE');
      expect(error.details).toMatchObject({ outcomeUnknown: true, attempts: 1 });
      expect(fake.requests).toHaveLength(1);
    });

    it('retries even a POST on connection refused (nothing was sent) and then names the cause', async () => {
      const port = await closedPort();
      const client = clientFor(fake, { instanceUrl: `http://127.0.0.1:${port}` });

      const error = await appErrorFrom(client.issues.create(42, { title: 'New' }));

      expect(error.code).toBe('INSTANCE_UNREACHABLE');
      expect(error.message).toContain('connection refused');
      expect(error.details).toMatchObject({ attempts: 3, code: 'ECONNREFUSED' });
      expect(error.details).not.toHaveProperty('outcomeUnknown');
    });
  });

  describe('client-side limiter', () => {
    it('holds the 6th request of a 5-per-second budget until the window has passed', async () => {
      fake.on('GET', '/api/v4/user', { json: USER });
      const client = clientFor(fake, {
        limits: { requests: { points: 5, durationSeconds: 1 }, issueCreates: null, noteCreates: null },
      });

      await Promise.all(Array.from({ length: 6 }, () => client.users.current()));

      const arrivals = fake.requests.map((r) => r.at).sort((a, b) => a - b);
      expect(arrivals).toHaveLength(6);
      expect(arrivals[5]! - arrivals[0]!).toBeGreaterThanOrEqual(900);
    });

    it('applies the issue-creation budget to POST /issues', async () => {
      fake.on('POST', '/api/v4/projects/42/issues', { status: 201, json: CREATED_ISSUE });
      const client = clientFor(fake, {
        limits: { requests: null, issueCreates: { points: 1, durationSeconds: 1 }, noteCreates: null },
      });

      await Promise.all([client.issues.create(42, { title: 'a' }), client.issues.create(42, { title: 'b' })]);

      const [first, second] = fake.requests.map((r) => r.at).sort((a, b) => a - b);
      expect(second! - first!).toBeGreaterThanOrEqual(900);
    });

    it('shares one limiter between clients of the same token and instance', () => {
      const registry = new GitlabLimiterRegistry();
      clientFor(fake, { limiterRegistry: registry });
      clientFor(fake, { limiterRegistry: registry });
      clientFor(fake, { limiterRegistry: registry, token: 'glpat-another-token-entirely' });

      expect(registry.size).toBe(2);
    });
  });
});
