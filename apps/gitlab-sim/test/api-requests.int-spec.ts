import { GitlabSimError, type SimApiRequest } from '@testkase/testing';

import { enc, startTestSim, type TestSim } from './helpers/test-sim';

describe('the REST API request log', () => {
  let t: TestSim;
  let fred: string;
  let alice: string;
  let projectId: number;
  let otherId: number;
  const project = 'log/app';
  const other = 'log/other';
  const issues = `/projects/${enc(project)}/issues`;

  beforeAll(async () => {
    t = await startTestSim();
    for (const username of ['fred', 'alice']) await t.client.createUser({ username });
    projectId = (await t.client.createProject({ path: project })).id;
    otherId = (await t.client.createProject({ path: other })).id;
    await t.client.addMember({ project, username: 'fred', accessLevel: 40 });
    await t.client.addMember({ project, username: 'alice', accessLevel: 30 });
    await t.client.addMember({ project: other, username: 'fred', accessLevel: 50 });
    fred = (await t.client.createToken({ username: 'fred' })).token;
    alice = (await t.client.createToken({ username: 'alice' })).token;
  });

  afterAll(() => t.close());

  beforeEach(() => t.client.clearApiRequests());

  afterEach(async () => {
    await t.client.clearFaults();
    await t.client.setRateLimits({ preset: 'off' });
  });

  const summary = (requests: SimApiRequest[]) =>
    requests.map(({ method, path, route, status, username, projectId: id }) => ({
      method,
      path,
      route,
      status,
      username,
      projectId: id,
    }));

  it('keeps the query string of each request, without a private_token sent in it', async () => {
    await t.api(
      'GET',
      `${issues}?order_by=updated_at&updated_after=2026-01-01T00:00:00Z&private_token=${fred}`,
    );
    await t.api('GET', issues, { token: fred });
    const [listed, plain] = await t.client.apiRequests();
    expect([listed?.query, plain?.query]).toEqual([
      'order_by=updated_at&updated_after=2026-01-01T00%3A00%3A00Z',
      '',
    ]);
  });

  it('records every REST call with its method, path, route, status, user and project, oldest first', async () => {
    await t.api('GET', '/user', { token: fred });
    await t.api('POST', issues, { token: fred, body: { title: 'First' } });
    await t.api('PUT', `/projects/${projectId}/issues/1`, {
      token: alice,
      body: { title: 'First, renamed' },
    });
    await t.api('POST', `${issues}/1/notes`, { token: alice, body: { body: 'Looks good' } });
    await t.api('GET', `${issues}?per_page=5&private_token=${fred}`);
    await t.api('GET', issues);
    await t.api('GET', '/projects/999/issues', { token: fred });
    await t.api('GET', '/no/such/route', { token: fred });
    await t.api('GET', '/user', { token: 'glpat-unknown-token-000' });
    // Not API requests: control API, health, metrics, docs.
    await t.client.state({ project });
    await fetch(`${t.url}/health/live`);
    await fetch(`${t.url}/metrics`);

    const requests = await t.client.apiRequests();

    expect(summary(requests)).toEqual([
      {
        method: 'GET',
        path: '/api/v4/user',
        route: '/api/v4/user',
        status: 200,
        username: 'fred',
        projectId: null,
      },
      {
        method: 'POST',
        path: `/api/v4${issues}`,
        route: '/api/v4/projects/:id/issues',
        status: 201,
        username: 'fred',
        projectId,
      },
      {
        method: 'PUT',
        path: `/api/v4/projects/${projectId}/issues/1`,
        route: '/api/v4/projects/:id/issues/:issue_iid',
        status: 200,
        username: 'alice',
        projectId,
      },
      {
        method: 'POST',
        path: `/api/v4${issues}/1/notes`,
        route: '/api/v4/projects/:id/issues/:issue_iid/notes',
        status: 201,
        username: 'alice',
        projectId,
      },
      {
        method: 'GET',
        path: `/api/v4${issues}`,
        route: '/api/v4/projects/:id/issues',
        status: 200,
        username: 'fred',
        projectId,
      },
      {
        method: 'GET',
        path: `/api/v4${issues}`,
        route: '/api/v4/projects/:id/issues',
        status: 404,
        username: null,
        projectId,
      },
      {
        method: 'GET',
        path: '/api/v4/projects/999/issues',
        route: '/api/v4/projects/:id/issues',
        status: 404,
        username: 'fred',
        projectId: null,
      },
      {
        method: 'GET',
        path: '/api/v4/no/such/route',
        route: null,
        status: 404,
        username: 'fred',
        projectId: null,
      },
      {
        method: 'GET',
        path: '/api/v4/user',
        route: '/api/v4/user',
        status: 401,
        username: null,
        projectId: null,
      },
    ]);
    const ids = requests.map((request) => request.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const [index, request] of requests.entries()) {
      expect(request.at).toBeGreaterThan(Date.now() - 60_000);
      if (index > 0) expect(request.at).toBeGreaterThanOrEqual(requests[index - 1]!.at);
    }
    expect(await t.client.countApiWrites()).toBe(3);
    expect((await t.client.state()).counts.apiRequests).toBe(9);
  });

  it('filters by since, method and project (id or path), and keeps the newest `limit`', async () => {
    await t.api('POST', issues, { token: fred, body: { title: 'A' } });
    await t.api('POST', `/projects/${enc(other)}/issues`, { token: fred, body: { title: 'B' } });
    await t.api('GET', issues, { token: fred });
    const all = await t.client.apiRequests();
    expect(all).toHaveLength(3);
    await t.api('DELETE', `/projects/${enc(other)}/issues/1`, { token: fred });
    await t.api('PUT', `${issues}/1`, { token: fred, body: { description: 'changed' } });

    const since = await t.client.apiRequests({ since: all[2]!.at });
    expect(since.map((request) => request.method)).toEqual(['GET', 'DELETE', 'PUT']);
    const writes = await t.client.apiRequests({ method: ['post', 'PUT'] });
    expect(writes.map((request) => request.method)).toEqual(['POST', 'POST', 'PUT']);
    expect((await t.client.apiRequests({ method: 'DELETE' })).map((request) => request.status)).toEqual([
      204,
    ]);
    expect((await t.client.apiRequests({ project: other })).map((request) => request.method)).toEqual([
      'POST',
      'DELETE',
    ]);
    expect((await t.client.apiRequests({ project: otherId })).every((r) => r.projectId === otherId)).toBe(
      true,
    );
    expect(await t.client.countApiWrites({ project })).toBe(2);
    expect(await t.client.countApiWrites({ project: other, since: all[2]!.at })).toBe(1);
    const newest = await t.client.apiRequests({ limit: 2 });
    expect(newest.map((request) => request.method)).toEqual(['DELETE', 'PUT']);
    await expect(t.client.apiRequests({ project: 'no/such' })).rejects.toMatchObject({ status: 404 });
    await expect(t.client.apiRequests({ limit: 0 })).rejects.toBeInstanceOf(GitlabSimError);
  });

  it('records requests answered by faults and rate limits, and the ones never answered', async () => {
    await t.client.addFault({ method: 'GET', path: '/api/v4/user', kind: 'status', status: 503, count: 1 });
    await t.api('GET', '/user', { token: fred });
    await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'status',
      status: 502,
      phase: 'after',
      count: 1,
    });
    await t.api('POST', issues, { token: fred, body: { title: 'Committed behind a 502' } });
    await t.client.addFault({
      method: 'POST',
      path: '/api/v4/projects/*/issues',
      kind: 'drop',
      phase: 'after',
      count: 1,
    });
    await expect(
      fetch(`${t.url}/api/v4${issues}`, {
        method: 'POST',
        headers: { 'private-token': fred, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Committed, connection reset' }),
      }),
    ).rejects.toThrow();
    await t.client.setRateLimits({ issueCreatesPerMinute: 1 });
    await t.api('POST', issues, { token: alice, body: { title: 'Allowed' } });
    await t.api('POST', issues, { token: alice, body: { title: 'Throttled' } });
    await t.client.setRateLimits({ preset: 'off', requestsPerMinute: 1 });
    await t.api('GET', '/user', { token: alice });
    await t.api('GET', '/user', { token: alice });

    const requests = await t.client.apiRequests();

    expect(requests.map((request) => [request.method, request.status, request.username])).toEqual([
      ['GET', 503, 'fred'],
      ['POST', 502, 'fred'],
      ['POST', null, 'fred'],
      ['POST', 201, 'alice'],
      ['POST', 429, 'alice'],
      ['GET', 200, 'alice'],
      ['GET', 429, 'alice'],
    ]);
    // Four writes reached the log; three of them created issues.
    expect(await t.client.countApiWrites({ project })).toBe(4);
  });

  it('is emptied by DELETE /__sim/api-requests and by a reset', async () => {
    await t.api('GET', '/user', { token: fred });
    expect(await t.client.apiRequests()).toHaveLength(1);
    await t.client.clearApiRequests();
    expect(await t.client.apiRequests()).toEqual([]);
    const fresh = await startTestSim();
    try {
      await fresh.api('GET', '/version');
      expect(await fresh.client.apiRequests()).toHaveLength(1);
      await fresh.client.reset();
      expect(await fresh.client.apiRequests()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
