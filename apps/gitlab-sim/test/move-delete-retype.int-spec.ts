import type { SimDelivery } from '@testkase/testing';

import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

interface Issue {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  state: string;
  labels: string[];
  issue_type: string;
  moved_to_id: number | null;
  author: { username: string };
  web_url: string;
}
interface Note {
  body: string;
  system: boolean;
}
interface Statistics {
  statistics: { counts: { all: number; opened: number; closed: number } };
}

/** What GitLab does on a move, a deletion and a change of type (docs/GITLAB.md, "Moved, deleted and retyped issues"). */
describe('moved, deleted and retyped issues', () => {
  let t: TestSim;
  let receiver: WebhookReceiver;
  let team: TeamProject;
  let p: string;
  const target = 'qa/target';
  const maintainer = () => `maintainer-${team.path.replace(/\//g, '-')}`;

  beforeAll(async () => {
    t = await startTestSim();
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'qa/source');
    p = enc(team.path);
    await t.client.createProject({ path: target });
    await t.client.addMember({ project: target, username: maintainer(), accessLevel: 40 });
    await t.client.createLabel(target, { name: 'bug' });
    for (const project of [team.path, target]) {
      const hook = await t.api('POST', `/projects/${enc(project)}/hooks`, {
        token: team.tokens.maintainer,
        body: { url: receiver.url, push_events: false, issues_events: true, note_events: true },
      });
      expect(hook.status).toBe(201);
    }
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const createIssue = async (body: Record<string, unknown>): Promise<Issue> => {
    const response = await t.api<Issue>('POST', `/projects/${p}/issues`, {
      token: team.tokens.developer,
      body,
    });
    expect(response.status).toBe(201);
    return response.body;
  };
  const getIssue = async (project: string, iid: number) =>
    t.api<Issue>('GET', `/projects/${enc(project)}/issues/${iid}`, { token: team.tokens.maintainer });
  const hooksSince = async (since: number): Promise<SimDelivery[]> => {
    await t.client.flushDeliveries();
    return t.client.deliveries({ since });
  };
  const statistics = async (iids: number[]) =>
    (
      await t.api<Statistics>(
        'GET',
        `/projects/${p}/issues_statistics?${iids.map((iid) => `iids[]=${iid}`).join('&')}`,
        { token: team.tokens.reporter },
      )
    ).body.statistics.counts;

  it('moves an issue: a new one in the target, the original closed with moved_to_id and a note', async () => {
    const original = await createIssue({ title: 'Checkout fails', labels: 'bug,area::pay' });
    const targetId = (await t.client.state({ project: target })).projects[0]?.['id'] as number;
    const since = Date.now();

    const response = await t.api<Issue>('POST', `/projects/${p}/issues/${original.iid}/move`, {
      token: team.tokens.maintainer,
      body: { to_project_id: targetId },
    });

    expect(response.status).toBe(201);
    const moved = response.body;
    expect(moved).toMatchObject({
      project_id: targetId,
      title: 'Checkout fails',
      state: 'opened',
      labels: ['bug'],
      moved_to_id: null,
      author: { username: `developer-${team.path.replace(/\//g, '-')}` },
    });
    expect(moved.web_url).toContain(`/${target}/-/issues/${moved.iid}`);
    const after = (await getIssue(team.path, original.iid)).body;
    expect(after).toMatchObject({ state: 'closed', moved_to_id: moved.id });
    const notes = (
      await t.api<Note[]>('GET', `/projects/${p}/issues/${original.iid}/notes`, {
        token: team.tokens.maintainer,
      })
    ).body;
    expect(notes).toContainEqual(
      expect.objectContaining({ body: `moved to target#${moved.iid}`, system: true }),
    );

    const hooks = await hooksSince(since);
    expect(hooks.map((hook) => hook.event)).toEqual(['Issue Hook', 'Issue Hook']);
    const attributes = hooks.map(
      (hook) =>
        hook.payload['object_attributes'] as { action: string; iid: number; moved_to_id: number | null },
    );
    expect(attributes[0]).toMatchObject({ action: 'open', iid: moved.iid, moved_to_id: null });
    expect(attributes[1]).toMatchObject({ action: 'close', iid: original.iid, moved_to_id: moved.id });
  });

  it('refuses a move into the same project, of a task, without to_project_id or to an unknown project', async () => {
    const issue = await createIssue({ title: 'Stays here' });
    const move = (iid: number, body: Record<string, unknown>) =>
      t.api('POST', `/projects/${p}/issues/${iid}/move`, { token: team.tokens.maintainer, body });
    expect(await move(issue.iid, { to_project_id: team.projectId })).toMatchObject({
      status: 400,
      body: { message: 'Cannot move issue to project it originates from!' },
    });
    expect(await move(issue.iid, {})).toMatchObject({
      status: 400,
      body: { error: 'to_project_id is missing' },
    });
    expect(await move(issue.iid, { to_project_id: 999_999 })).toMatchObject({
      status: 404,
      body: { message: '404 Project Not Found' },
    });
    expect(await move(999_999, { to_project_id: team.projectId })).toMatchObject({
      status: 404,
      body: { message: '404 Issue Not Found' },
    });
    const task = await createIssue({ title: 'A task', issue_type: 'task' });
    const targetId = (await t.client.state({ project: target })).projects[0]?.['id'] as number;
    expect(await move(task.iid, { to_project_id: targetId })).toMatchObject({
      status: 400,
      body: { message: "Cannot move issues of 'task' type." },
    });
    expect((await getIssue(team.path, issue.iid)).body).toMatchObject({ state: 'opened', moved_to_id: null });
  });

  it('deletes without a webhook; issues_statistics counts what is left of the iids asked for', async () => {
    const kept = await createIssue({ title: 'Kept' });
    const gone = await createIssue({ title: 'Gone' });
    expect(await statistics([kept.iid, gone.iid])).toEqual({ all: 2, opened: 2, closed: 0 });
    const since = Date.now();

    const deleted = await t.api('DELETE', `/projects/${p}/issues/${gone.iid}`, { token: team.tokens.owner });

    expect(deleted.status).toBe(204);
    expect(await hooksSince(since)).toEqual([]);
    expect(await statistics([kept.iid, gone.iid])).toEqual({ all: 1, opened: 1, closed: 0 });
    expect((await getIssue(team.path, gone.iid)).status).toBe(404);
  });

  it('retypes an issue to an incident: the update hook names the new type, REST answers issue_type incident', async () => {
    const issue = await createIssue({ title: 'Outage' });
    const since = Date.now();

    const response = await t.api<Issue>('PUT', `/projects/${p}/issues/${issue.iid}`, {
      token: team.tokens.maintainer,
      body: { issue_type: 'incident' },
    });

    expect(response.status).toBe(200);
    expect(response.body.issue_type).toBe('incident');
    const hooks = await hooksSince(since);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.payload['object_attributes']).toMatchObject({
      action: 'update',
      iid: issue.iid,
      type: 'Incident',
    });
    // Still an issue of the issues API (incidents are), so still counted.
    expect(await statistics([issue.iid])).toEqual({ all: 1, opened: 1, closed: 0 });
  });
});
