import { GitlabSimError } from '@testkase/testing';

import { enc, startTestSim, type TestSim } from './helpers/test-sim';

describe('control API, demo seed and service endpoints', () => {
  let t: TestSim;

  beforeAll(async () => {
    t = await startTestSim({ GITLAB_SIM_SEED_DEMO: 'true' });
  });

  afterAll(() => t.close());

  describe('the seeded demo', () => {
    const maintainerToken = 'glpat-sim-maintainer-0000000001';
    const developerToken = 'glpat-sim-developer-0000000002';

    it('has demo/testkase-demo (private) with 25 issues, some closed, priority labels and one confidential', async () => {
      const project = await t.api<{ visibility: string }>('GET', `/projects/${enc('demo/testkase-demo')}`, {
        token: maintainerToken,
      });
      expect(project.body.visibility).toBe('private');
      const issues = await t.api<Array<{ state: string; labels: string[]; confidential: boolean }>>(
        'GET',
        `/projects/${enc('demo/testkase-demo')}/issues?per_page=100`,
        {
          token: maintainerToken,
        },
      );
      expect(issues.headers.get('x-total')).toBe('25');
      expect(issues.body.filter((issue) => issue.state === 'closed').length).toBeGreaterThan(0);
      expect(
        issues.body.filter((issue) => issue.labels.some((label) => label.startsWith('priority::'))).length,
      ).toBeGreaterThan(0);
      expect(issues.body.filter((issue) => issue.confidential)).toHaveLength(1);
    });

    it('has integration-bot (Maintainer) and dev-alice (Developer) with api tokens', async () => {
      for (const [token, username, level] of [
        [maintainerToken, 'integration-bot', 40],
        [developerToken, 'dev-alice', 30],
      ] as const) {
        const user = await t.api<{ id: number; username: string }>('GET', '/user', { token });
        expect(user.body.username).toBe(username);
        const member = await t.api<{ access_level: number }>(
          'GET',
          `/projects/${enc('demo/testkase-demo')}/members/all/${user.body.id}`,
          { token },
        );
        expect(member.body.access_level).toBe(level);
        const self = await t.api<{ scopes: string[]; expires_at: string | null }>(
          'GET',
          '/personal_access_tokens/self',
          { token },
        );
        expect(self.body).toMatchObject({ scopes: ['api'], expires_at: null });
      }
    });
  });

  describe('service endpoints', () => {
    it('serves health, metrics and OpenAPI', async () => {
      expect((await fetch(`${t.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${t.url}/health/ready`)).status).toBe(200);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toContain('gitlab_sim_http_requests_total');
      expect(metrics).toContain('gitlab_sim_webhook_deliveries_total');
      expect(metrics).toContain('process_cpu_user_seconds_total');
      const docs = (await (await fetch(`${t.url}/docs/json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(docs.openapi).toMatch(/^3\./);
      expect(Object.keys(docs.paths)).toEqual(
        expect.arrayContaining(['/api/v4/projects/{id}/issues', '/__sim/faults']),
      );
    });
  });

  describe('seeding and state', () => {
    it('seeds 100,000 issues in bulk and serves them', async () => {
      await t.client.createProject({ path: 'load/big' });
      const result = await t.client.seedIssues('load/big', {
        count: 100_000,
        closedPercent: 20,
        confidentialPercent: 1,
        priorityLabelsPercent: 30,
        descriptionTemplate: 'Issue {{n}}',
      });
      expect(result).toMatchObject({ created: 100_000, firstIid: 1, lastIid: 100_000 });
      const state = await t.client.state({ project: 'load/big', limit: 5 });
      expect(state.projects[0]).toMatchObject({ pathWithNamespace: 'load/big', issueCount: 100_000 });
      expect(state.issues).toHaveLength(5);
      const closed = await t.api<unknown[]>(
        'GET',
        `/projects/${enc('load/big')}/issues?state=closed&labels=priority::high&per_page=100`,
        {
          token: 'glpat-sim-maintainer-0000000001',
        },
      );
      // integration-bot is not a member of load/big: a private project does not exist for it.
      expect(closed.status).toBe(404);
    });

    it('never reveals token secrets in the state', async () => {
      const state = await t.client.state();
      expect(JSON.stringify(state)).not.toContain('glpat-sim-maintainer-0000000001');
      expect(state.tokens.every((token) => typeof token['hint'] === 'string')).toBe(true);
    });

    it('acts as a user through the control API, like the REST API would', async () => {
      const issue = await t.client.createIssue('demo/testkase-demo', {
        as: 'dev-alice',
        title: 'From the control API',
        labels: ['bug'],
      });
      const edited = await t.client.updateIssue('demo/testkase-demo', issue.iid, {
        as: 'dev-alice',
        title: 'Renamed',
        addLabels: ['priority::low'],
      });
      expect(edited).toMatchObject({ title: 'Renamed', labels: ['bug', 'priority::low'] });
      const commands = await t.client.addNote('demo/testkase-demo', issue.iid, {
        as: 'dev-alice',
        body: '/close',
      });
      expect(commands).toMatchObject({ kind: 'commands', summary: ['Closed this issue.'] });
    });

    it('bursts writes through the same services (events, counters) in one call', async () => {
      const result = await t.client.burst('demo/testkase-demo', {
        as: 'dev-alice',
        count: 3,
        action: 'comment',
      });
      expect(result).toMatchObject({ action: 'comment', count: 3 });
      const issue = await t.api<{ user_notes_count: number }>(
        'GET',
        `/projects/${enc('demo/testkase-demo')}/issues/${result.iid}`,
        {
          token: 'glpat-sim-developer-0000000002',
        },
      );
      expect(issue.body.user_notes_count).toBe(3);
    });

    it('applies several edits in one call, each with its webhook, or none when one is bad', async () => {
      const project = 'demo/testkase-demo';
      const [first, second] = await Promise.all([
        t.client.createIssue(project, { as: 'dev-alice', title: 'Edit me 1' }),
        t.client.createIssue(project, { as: 'dev-alice', title: 'Edit me 2' }),
      ]);
      // A hook to record the deliveries (nothing listens there: they are logged as failed).
      const hook = await t.api<{ id: number }>('POST', `/projects/${enc(project)}/hooks`, {
        token: 'glpat-sim-maintainer-0000000001',
        body: { url: 'http://127.0.0.1:9/nobody', issues_events: true, push_events: false },
      });
      expect(hook.status).toBe(201);
      await t.client.flushDeliveries();
      const since = Date.now();
      const result = await t.client.editIssues(project, {
        as: 'dev-alice',
        edits: [
          { iid: first!.iid, title: 'Edited 1' },
          { iid: second!.iid, addLabels: ['priority::high'] },
          { iid: first!.iid, stateEvent: 'close' },
        ],
      });
      expect(result).toMatchObject({ count: 3 });
      await t.client.flushDeliveries();
      const actions = (await t.client.deliveries({ project, since }))
        .filter((delivery) => delivery.event === 'Issue Hook')
        .map((delivery) => {
          const attributes = delivery.payload['object_attributes'] as { iid: number; action: string };
          return [attributes.iid, attributes.action];
        });
      expect(actions).toEqual([
        [first!.iid, 'update'],
        [second!.iid, 'update'],
        [first!.iid, 'close'],
      ]);

      const bad = await fetch(`${t.url}/__sim/projects/${enc(project)}/issues/edits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          as: 'dev-alice',
          edits: [
            { iid: second!.iid, title: 'Never applied' },
            { iid: 999_999, title: 'No such issue' },
          ],
        }),
      });
      expect(bad.status).toBe(404);
      const post = (payload: unknown) =>
        fetch(`${t.url}/__sim/projects/${enc(project)}/issues/edits`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
      const tooMany = Array.from({ length: 10_001 }, () => ({ iid: second!.iid, title: 'Too many' }));
      for (const malformed of [
        { as: 'dev-alice', edits: 'not a list' },
        { as: 'dev-alice', edits: [] },
        { as: 'dev-alice', edits: tooMany },
        { as: 'dev-alice', edits: [{ iid: second!.iid, title: 'Fine' }, { title: 'no iid' }] },
        { as: 'dev-alice', edits: [{ iid: 'one', title: 'Not a number' }] },
        { as: 'dev-alice', edits: [null] },
      ]) {
        const answer = await post(malformed);
        expect({ payload: JSON.stringify(malformed).slice(0, 80), status: answer.status }).toEqual({
          payload: JSON.stringify(malformed).slice(0, 80),
          status: 400,
        });
      }
      const stillUnchanged = await t.api<{ title: string }>(
        'GET',
        `/projects/${enc(project)}/issues/${second!.iid}`,
        { token: 'glpat-sim-developer-0000000002' },
      );
      expect(stillUnchanged.body.title).toBe('Edit me 2');
      const unchanged = await t.api<{ title: string }>(
        'GET',
        `/projects/${enc(project)}/issues/${second!.iid}`,
        {
          token: 'glpat-sim-developer-0000000002',
        },
      );
      expect(unchanged.body.title).toBe('Edit me 2');
      await t.api('DELETE', `/projects/${enc(project)}/hooks/${hook.body.id}`, {
        token: 'glpat-sim-maintainer-0000000001',
      });
    });

    it('resets to an empty simulator, or to the demo', async () => {
      await t.client.reset();
      expect((await t.client.state()).projects).toHaveLength(0);
      await t.client.reset({ demo: true });
      expect((await t.client.state()).projects.map((project) => project['pathWithNamespace'])).toEqual([
        'demo/testkase-demo',
      ]);
    });

    it('reports control API errors as GitlabSimError with the status', async () => {
      const error = await t.client.createProject({ path: 'no-namespace' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GitlabSimError);
      expect((error as GitlabSimError).status).toBe(400);
    });
  });
});
