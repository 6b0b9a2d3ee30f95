import { clientFor, closeClients } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';
import { templateRoute, type GitlabMetricsSink } from './transport/gitlab-metrics';

const ISSUE = { id: 501, iid: 7, title: 'Login fails', labels: [], project_id: 42 };

function recordingSink() {
  const calls: Array<{ method: string; route: string; status: string }> = [];
  const waits: number[] = [];
  const retries: string[] = [];
  const sink: GitlabMetricsSink = {
    request: (call) => calls.push(call),
    rateLimited: (seconds) => waits.push(seconds),
    retry: (reason) => retries.push(reason),
  };
  return { sink, calls, waits, retries };
}

describe('GitLab call metrics', () => {
  let fake: FakeGitlab;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it.each([
    ['projects/42/issues/7', '/projects/:id/issues/:iid'],
    ['projects/group%2Fproject', '/projects/:id'],
    ['projects/42/issues/7/notes/991', '/projects/:id/issues/:iid/notes/:note_id'],
    ['projects/42/members/all/5', '/projects/:id/members/all/:user_id'],
    ['projects/42/hooks/3/events', '/projects/:id/hooks/:hook_id/events'],
    ['personal_access_tokens/self', '/personal_access_tokens/self'],
    ['personal_access_tokens?user_id=5', '/personal_access_tokens'],
    ['user', '/user'],
  ])('templates %p as %p (a bounded label)', (path, route) => {
    expect(templateRoute(path)).toBe(route);
  });

  it('counts each attempt by templated route and status, and a 429 wait and its retry', async () => {
    fake.on(
      'GET',
      '/api/v4/projects/42/issues/7',
      { status: 429, headers: { 'retry-after': '1' }, text: 'Retry later' },
      { json: ISSUE },
    );
    const { sink, calls, waits, retries } = recordingSink();
    const client = clientFor(fake, { metrics: sink });

    await client.issues.get(42, 7);

    expect(calls).toEqual([
      { method: 'GET', route: '/projects/:id/issues/:iid', status: '429' },
      { method: 'GET', route: '/projects/:id/issues/:iid', status: '200' },
    ]);
    expect(waits).toEqual([1]);
    expect(retries).toEqual(['rate_limited']);
  });

  it('counts a retried 5xx as a server_error retry', async () => {
    fake.on('GET', '/api/v4/projects/42/issues/7', { status: 502, text: 'bad gateway' }, { json: ISSUE });
    const { sink, calls, retries } = recordingSink();
    const client = clientFor(fake, { metrics: sink, retry: { baseDelayMs: 1, maxDelayMs: 2 } });

    await client.issues.get(42, 7);

    expect(calls.map((c) => c.status)).toEqual(['502', '200']);
    expect(retries).toEqual(['server_error']);
  });
});
