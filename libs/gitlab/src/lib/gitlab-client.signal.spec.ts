import { clientFor, closeClients } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';

const ISSUE = { id: 77, iid: 7, project_id: 1, title: 'x', labels: [], state: 'opened' };

/**
 * Issue 11: a consumer passes its message's InboundMessage.signal to the GitLab calls, so that a
 * message given up (maxWorkMs) stops its GitLab work: no answer awaited, no retry, no backoff.
 */
describe('GitLab client: a caller signal stops the call', () => {
  let fake: FakeGitlab;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it('aborts a request GitLab never answers', async () => {
    fake.on('GET', '/api/v4/projects/1/issues/7', { hang: true });
    const client = clientFor(fake, { timeoutMs: 30_000 });
    const controller = new AbortController();
    const started = Date.now();
    const call = client.issues.get(1, 7, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('given up')), 200);
    await expect(call).rejects.toBeDefined();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('makes no further attempt once the signal fired during a retry wait', async () => {
    // Retry-After fixes the wait at 5 s (the jittered backoff alone may be a few milliseconds).
    fake.on(
      'GET',
      '/api/v4/projects/1/issues/7',
      { status: 503, text: 'down', headers: { 'retry-after': '5' } },
      { json: ISSUE },
    );
    const client = clientFor(fake, {
      retry: { maxAttempts: 3, maxTotalWaitMs: 20_000, baseDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    const controller = new AbortController();
    const call = client.issues.get(1, 7, { signal: controller.signal });
    // The first attempt has been answered 503; the client now waits before its second.
    for (let i = 0; i < 100 && fake.requests.length === 0; i += 1)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error('given up'));
    await expect(call).rejects.toThrow('given up');
    expect(fake.requests).toHaveLength(1);
  });

  it('still answers a call without a signal', async () => {
    fake.on('GET', '/api/v4/projects/1/issues/7', { json: ISSUE });
    await expect(clientFor(fake).issues.get(1, 7)).resolves.toMatchObject({ iid: 7 });
  });
});
