import { GitlabSimError, type SimDelivery } from '@testkase/testing';

import { enc, startTestSim, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

interface Issue {
  iid: number;
  title: string;
}

/**
 * Faults that strike after the route ran: GitLab committed the write, but the client never saw
 * the answer (a proxy 502, a timeout, a reset connection). A client that retries blindly would
 * create a duplicate; these tests pin down that exactly one issue exists and its webhook fired.
 */
describe('faults with phase "after"', () => {
  let t: TestSim;
  let receiver: WebhookReceiver;
  let token: string;
  let hookId: number;
  const project = 'after/app';
  const issuesPath = `/projects/${enc(project)}/issues`;

  beforeAll(async () => {
    t = await startTestSim();
    receiver = await WebhookReceiver.start();
    await t.client.createUser({ username: 'fred' });
    await t.client.createProject({ path: project });
    await t.client.addMember({ project, username: 'fred', accessLevel: 40 });
    token = (await t.client.createToken({ username: 'fred' })).token;
    const hook = await t.api<{ id: number }>('POST', `/projects/${enc(project)}/hooks`, {
      token,
      body: { url: receiver.url, push_events: false, issues_events: true },
    });
    hookId = hook.body.id;
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  afterEach(async () => {
    await t.client.clearFaults();
    await t.client.flushDeliveries();
  });

  const issuesTitled = async (title: string): Promise<Issue[]> => {
    const response = await t.api<Issue[]>('GET', `${issuesPath}?search=${encodeURIComponent(title)}`, {
      token,
    });
    expect(response.status).toBe(200);
    return response.body.filter((issue) => issue.title === title);
  };
  const stateIssuesTitled = async (title: string): Promise<unknown[]> =>
    (await t.client.state({ project })).issues.filter((issue) => issue['title'] === title);
  const openHooksFor = async (title: string): Promise<SimDelivery[]> => {
    await t.client.flushDeliveries();
    return (await t.client.deliveries({ hook: hookId })).filter((delivery) => {
      const attributes = delivery.payload['object_attributes'] as { title: string; action: string };
      return attributes.title === title && attributes.action === 'open';
    });
  };
  const post = (title: string, signal?: AbortSignal): Promise<Response> =>
    fetch(`${t.url}/api/v4${issuesPath}`, {
      method: 'POST',
      headers: { 'private-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
      signal,
    });

  it('creates the issue and fires its webhook, then answers the injected 500', async () => {
    const fault = await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'status',
      status: 500,
      phase: 'after',
      count: 1,
    });
    expect(fault.phase).toBe('after');
    const response = await t.api('POST', issuesPath, { token, body: { title: 'Committed, answer lost' } });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ message: '500 Internal Server Error' });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await issuesTitled('Committed, answer lost')).toHaveLength(1);
    expect(await stateIssuesTitled('Committed, answer lost')).toHaveLength(1);
    expect(await openHooksFor('Committed, answer lost')).toHaveLength(1);
    expect((await t.client.faults())[0]).toMatchObject({ hits: 1, phase: 'after' });
    // count: 1 — the next request is answered normally.
    expect((await t.api('POST', issuesPath, { token, body: { title: 'Next one' } })).status).toBe(201);
  });

  it('answers a given body instead of the real one', async () => {
    await t.client.addFault({
      path: '/api/v4/projects/*/issues',
      method: 'POST',
      kind: 'status',
      status: 502,
      body: '<html>502 Bad Gateway</html>',
      phase: 'after',
      count: 1,
    });
    const response = await t.api('POST', issuesPath, { token, body: { title: 'Behind a proxy' } });
    expect(response.status).toBe(502);
    expect(response.text).toBe('<html>502 Bad Gateway</html>');
    expect(await issuesTitled('Behind a proxy')).toHaveLength(1);
  });

  it('resets the connection after creating the issue on `drop`', async () => {
    await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'drop',
      phase: 'after',
      count: 1,
    });
    await expect(post('Dropped after commit')).rejects.toThrow(/fetch failed/);
    expect(await issuesTitled('Dropped after commit')).toHaveLength(1);
    expect(await openHooksFor('Dropped after commit')).toHaveLength(1);
  });

  it('never answers after creating the issue on `timeout` (the client aborts)', async () => {
    await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'timeout',
      phase: 'after',
      count: 1,
    });
    await expect(post('Timed out after commit', AbortSignal.timeout(300))).rejects.toThrow();
    expect(await issuesTitled('Timed out after commit')).toHaveLength(1);
    expect(await openHooksFor('Timed out after commit')).toHaveLength(1);
  });

  it('delays the real answer on `latency`', async () => {
    await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'latency',
      latencyMs: 300,
      phase: 'after',
      count: 1,
    });
    const started = performance.now();
    const response = await t.api<Issue>('POST', issuesPath, { token, body: { title: 'Slow answer' } });
    expect(response.status).toBe(201);
    expect(response.body.title).toBe('Slow answer');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('spoils streamed issue lists too', async () => {
    await t.client.addFault({
      method: 'GET',
      path: '/api/v4/projects/*/issues',
      kind: 'status',
      status: 503,
      phase: 'after',
      count: 1,
    });
    const failed = await t.api('GET', issuesPath, { token });
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ message: '503 Service Unavailable' });
    expect(failed.headers.get('x-total')).toBeNull();
    await t.client.addFault({
      method: 'GET',
      path: '/api/v4/projects/*/issues',
      kind: 'latency',
      latencyMs: 50,
      phase: 'after',
      count: 1,
    });
    const slow = await t.api<Issue[]>('GET', issuesPath, { token });
    expect(slow.status).toBe(200);
    expect(slow.body.length).toBeGreaterThan(0);
    expect(slow.headers.get('x-total')).not.toBeNull();
  });

  it('still creates nothing with a `before` fault (the default phase)', async () => {
    const fault = await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'status',
      status: 500,
      count: 1,
    });
    expect(fault.phase).toBe('before');
    const response = await t.api('POST', issuesPath, { token, body: { title: 'Never created' } });
    expect(response.status).toBe(500);
    expect(await issuesTitled('Never created')).toHaveLength(0);
    expect(await stateIssuesTitled('Never created')).toHaveLength(0);
    expect(await openHooksFor('Never created')).toHaveLength(0);
  });

  it('validates the phase and refuses `rate_limit` after the request ran', async () => {
    const invalid = t.client.addFault({
      path: '/api/v4/user',
      kind: 'status',
      status: 500,
      phase: 'sideways' as 'after',
    });
    await expect(invalid).rejects.toMatchObject({
      status: 400,
      body: { error: 'phase does not have a valid value' },
    });
    const rateLimit = t.client.addFault({ path: '/api/v4/user', kind: 'rate_limit', phase: 'after' });
    await expect(rateLimit).rejects.toBeInstanceOf(GitlabSimError);
    await expect(rateLimit).rejects.toMatchObject({ status: 400 });
    expect(await t.client.faults()).toEqual([]);
  });
});
