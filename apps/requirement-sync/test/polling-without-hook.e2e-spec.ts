import 'reflect-metadata';

import {
  createSimProject,
  eventually,
  TestStack,
  type SimApiRequest,
  type SimProject,
} from '@testkase/testing';

import { allRequirements, requirementOfIssue } from './support/requirements-api';

jest.setTimeout(120_000);

interface ConnectionView {
  connectionId: string;
  mode: string;
  status: string;
  hook: { state: string };
  webhookSetup?: { url: string; secret?: string };
}

/**
 * Real time without a Maintainer: a Developer's connection is `webhook_manual`, and until its first
 * webhook delivery requirement-sync polls GitLab every POLL_INTERVAL_NO_HOOK (1 s here) instead of
 * every RECONCILE_INTERVAL_MANUAL (1 min), and the connection shows `polling`. Once the project's
 * admin adds the hook and it delivers, the connection shows `manual` and the fast polling stops.
 * gitlab-sim, the real gateway, connection-service and requirement-sync, real Postgres and NATS.
 */
describe('requirement-sync: a manual connection before its first webhook delivery', () => {
  let stack: TestStack;
  let project: SimProject;
  let developerToken: string;
  const TK = 'tk-polling';

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'rs_polling',
      env: {
        'webhook-gateway': { DELIVERIES_SEEN_INTERVAL: '300ms' },
        'requirement-sync': { POLL_INTERVAL_NO_HOOK: '1s', SYNC_SCHEDULER_TICK: '200ms' },
      },
    });
    // Issues from an hour ago, as in a project that already has some when it is connected.
    const startAt = new Date(Date.now() - 3_600_000).toISOString();
    project = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 3, startAt } });
    developerToken = (await project.sim.createToken({ username: project.developer, scopes: ['api'] })).token;
  }, 120_000);

  afterAll(async () => {
    await stack?.core('connection-service', 'DELETE', `/v1/projects/${TK}/connection`);
    await stack?.stop();
  });

  const connection = async (): Promise<ConnectionView> =>
    (await stack.core<ConnectionView>('connection-service', 'GET', `/v1/projects/${TK}/connection`)).body;

  /** The incremental listings requirement-sync made of the project's issues since `since`. */
  const polls = async (since: number): Promise<SimApiRequest[]> =>
    (await project.sim.apiRequests({ since, method: 'GET', project: project.id })).filter(
      (request) =>
        request.route === '/api/v4/projects/:id/issues' && request.query.includes('updated_after='),
    );

  it('polls GitLab while no delivery has come, shows `polling`, and stops once webhooks arrive', async () => {
    const connectedAt = Date.now();
    const connect = await stack.core<ConnectionView>(
      'connection-service',
      'PUT',
      `/v1/projects/${TK}/connection`,
      {
        platform: 'gitlab',
        instanceUrl: new URL(project.webUrl).origin,
        projectRef: project.path,
        token: developerToken,
      },
    );
    expect(connect.status).toBe(200);
    expect(connect.body).toMatchObject({
      mode: 'webhook_manual',
      status: 'awaiting_first_delivery',
      hook: { state: 'polling' },
    });
    const setup = connect.body.webhookSetup;
    await eventually(async () => expect(await allRequirements(stack, TK)).toHaveLength(3), {
      timeoutMs: 30_000,
    });

    // Several listings within seconds: a 1-minute reconciliation alone would have made one.
    await eventually(async () => expect((await polls(connectedAt)).length).toBeGreaterThanOrEqual(3), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });

    // No hook on GitLab, so no webhook: only a poll can bring this edit.
    await project.sim.updateIssue(project.id, 2, { as: project.developer, title: 'Edited without a hook' });
    await eventually(
      async () => expect((await requirementOfIssue(stack, TK, 2))?.title).toBe('Edited without a hook'),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(await connection()).toMatchObject({
      status: 'awaiting_first_delivery',
      hook: { state: 'polling' },
    });

    // The project's Maintainer adds the hook the answer described; the next edit is delivered.
    const hook = await fetch(`${project.sim.apiUrl}/projects/${project.id}/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'private-token': project.token },
      body: JSON.stringify({
        url: setup?.url,
        token: setup?.secret,
        issues_events: true,
        confidential_issues_events: true,
        note_events: true,
        confidential_note_events: true,
        push_events: false,
      }),
    });
    expect(hook.status).toBe(201);
    await project.sim.updateIssue(project.id, 3, { as: project.developer, title: 'Edited with the hook' });
    await eventually(
      async () => expect(await connection()).toMatchObject({ status: 'active', hook: { state: 'manual' } }),
      { timeoutMs: 15_000, intervalMs: 200 },
    );

    // Back to RECONCILE_INTERVAL_MANUAL (1 min): no more listings every second.
    await eventually(
      async () => {
        const recent = await polls(Date.now() - 3_000);
        expect(recent).toEqual([]);
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    // And the edit itself arrived: webhooks carry the changes now.
    await eventually(
      async () => expect((await requirementOfIssue(stack, TK, 3))?.title).toBe('Edited with the hook'),
      { timeoutMs: 15_000, intervalMs: 200 },
    );

    // A brand-new issue edited at once (this stack keeps DEFECT_MARKER_GRACE at its 2 minutes): an
    // issue without a defect marker is never held, so both webhooks apply within seconds.
    const fresh = await project.sim.createIssue(project.id, { as: project.developer, title: 'Just filed' });
    await project.sim.updateIssue(project.id, fresh.iid, {
      as: project.developer,
      title: 'Just filed, fixed',
    });
    await eventually(
      async () => expect((await requirementOfIssue(stack, TK, fresh.iid))?.title).toBe('Just filed, fixed'),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
  });
});
