import type { SimDelivery } from '@testkase/testing';

import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

interface Issue {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  description: string | null;
  state: string;
  labels: string[];
  confidential: boolean;
  due_date: string | null;
  author: { username: string };
  assignees: Array<{ username: string }>;
  user_notes_count: number;
  updated_at: string;
}
interface Note {
  body: string;
  system: boolean;
  author: { username: string };
}
interface Commands {
  commands_changes: Record<string, unknown>;
  summary: string[];
}

const MARKER = '<!-- testkase:defect:DEF-1 -->';

describe('the /clone quick action', () => {
  let t: TestSim;
  let receiver: WebhookReceiver;
  let team: TeamProject;
  let p: string;
  const other = 'qa/other';
  const foreign = 'elsewhere/target';
  const developer = () => `developer-${team.path.replace(/\//g, '-')}`;
  const maintainer = () => `maintainer-${team.path.replace(/\//g, '-')}`;

  beforeAll(async () => {
    t = await startTestSim();
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'qa/clone-app');
    p = enc(team.path);
    await t.client.createProject({ path: other });
    await t.client.addMember({ project: other, username: developer(), accessLevel: 30 });
    await t.client.createLabel(other, { name: 'bug' });
    await t.client.createProject({ path: foreign });
    await t.client.addMember({ project: foreign, username: developer(), accessLevel: 10 });
    for (const project of [team.path, other]) {
      await t.client.addMember({ project, username: maintainer(), accessLevel: 40 });
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

  afterEach(() => t.client.resetClock());

  const createIssue = async (body: Record<string, unknown>): Promise<Issue> => {
    const response = await t.api<Issue>('POST', `/projects/${p}/issues`, {
      token: team.tokens.maintainer,
      body,
    });
    expect(response.status).toBe(201);
    return response.body;
  };
  const comment = (iid: number, body: string, token = team.tokens.developer) =>
    t.api<Commands & Note>('POST', `/projects/${p}/issues/${iid}/notes`, { token, body: { body } });
  const issues = async (project: string): Promise<Issue[]> =>
    (
      await t.api<Issue[]>('GET', `/projects/${enc(project)}/issues?per_page=100`, {
        token: team.tokens.maintainer,
      })
    ).body;
  const notesOf = async (project: string, iid: number): Promise<Note[]> =>
    (
      await t.api<Note[]>('GET', `/projects/${enc(project)}/issues/${iid}/notes?sort=asc`, {
        token: team.tokens.maintainer,
      })
    ).body;
  /** Issue and note hooks sent since `since`, in the order the events happened. */
  const hooksSince = async (since: number): Promise<SimDelivery[]> => {
    await t.client.flushDeliveries();
    return t.client.deliveries({ since });
  };

  it('clones into the same project: same description (marker included), the commenter as author, an open hook', async () => {
    const original = await createIssue({
      title: 'Login fails with SSO',
      description: `Steps to reproduce\n\n${MARKER}`,
      labels: 'bug',
    });
    await comment(original.iid, 'I can reproduce it.');
    const before = (await issues(team.path)).find((issue) => issue.iid === original.iid)!;
    await t.client.advanceClock(1_000);
    const since = Date.now();

    const response = await comment(original.iid, '/clone');

    expect(response.status).toBe(202);
    expect(response.body.summary).toEqual([`Cloned this issue to ${team.path}.`]);
    expect(response.body.commands_changes).toEqual({ clone_with_notes: false });
    const all = await issues(team.path);
    const copy = all.find((issue) => issue.iid === original.iid + 1)!;
    expect(copy).toMatchObject({
      title: 'Login fails with SSO',
      description: `Steps to reproduce\n\n${MARKER}`,
      state: 'opened',
      labels: ['bug'],
      author: { username: developer() },
      user_notes_count: 0,
    });
    const after = all.find((issue) => issue.iid === original.iid)!;
    expect(after.state).toBe('opened');
    // The `cloned to` note touches the original, without a webhook.
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    expect((await notesOf(team.path, copy.iid)).map((note) => [note.body, note.system])).toEqual([
      [`cloned from #${original.iid}`, true],
    ]);
    const originalNotes = await notesOf(team.path, original.iid);
    expect(originalNotes[originalNotes.length - 1]).toMatchObject({
      body: `cloned to #${copy.iid}`,
      system: true,
      author: { username: developer() },
    });

    const hooks = await hooksSince(since);
    expect(hooks.map((hook) => hook.event)).toEqual(['Issue Hook']);
    const payload = hooks[0]!.payload as {
      object_attributes: { action: string; iid: number; description: string };
      user: { username: string };
    };
    expect(payload.object_attributes).toMatchObject({
      action: 'open',
      iid: copy.iid,
      description: `Steps to reproduce\n\n${MARKER}`,
    });
    expect(payload.user.username).toBe(developer());
  });

  it('copies the comments with --with_notes (authors kept) and counts them', async () => {
    const original = await createIssue({ title: 'Export is slow' });
    await comment(original.iid, 'First observation', team.tokens.maintainer);
    await comment(original.iid, 'Second observation');

    const response = await comment(original.iid, '/clone --with_notes');

    expect(response.status).toBe(202);
    expect(response.body.commands_changes).toEqual({ clone_with_notes: true });
    const copy = (await issues(team.path)).find(
      (issue) => issue.title === 'Export is slow' && issue.iid !== original.iid,
    )!;
    expect(copy.user_notes_count).toBe(2);
    const notes = await notesOf(team.path, copy.iid);
    expect(notes.filter((note) => !note.system).map((note) => [note.body, note.author.username])).toEqual([
      ['First observation', maintainer()],
      ['Second observation', developer()],
    ]);
    expect(notes[notes.length - 1]).toMatchObject({ body: `cloned from #${original.iid}`, system: true });
  });

  it('clones into another project, keeping only the labels that exist there', async () => {
    const original = await createIssue({ title: 'Crash on save', labels: 'bug,needs-triage' });
    const since = Date.now();

    const response = await comment(original.iid, 'Tracking this in the other project too.\n/clone qa/other');

    expect(response.status).toBe(201);
    expect((response.body as Note).body).toBe('Tracking this in the other project too.');
    const [copy] = await issues(other);
    expect(copy).toMatchObject({
      iid: 1,
      title: 'Crash on save',
      labels: ['bug'],
      author: { username: developer() },
    });
    const originalNotes = await notesOf(team.path, original.iid);
    expect(originalNotes.map((note) => note.body)).toContain('cloned to other#1');
    expect((await notesOf(other, 1)).map((note) => note.body)).toEqual([
      `cloned from clone-app#${original.iid}`,
    ]);
    const hooks = await hooksSince(since);
    expect(hooks.map((hook) => [hook.event, hook.projectId])).toEqual([
      ['Note Hook', team.projectId],
      ['Issue Hook', copy!.project_id],
    ]);
    // The missing label was not created in the target.
    const labels = await t.api<Array<{ name: string }>>('GET', `/projects/${enc(other)}/labels`, {
      token: team.tokens.maintainer,
    });
    expect(labels.body.map((label) => label.name)).toEqual(['bug']);
  });

  it('does nothing when the actor may not manage issues in the target, as GitLab', async () => {
    const original = await createIssue({ title: 'Not for guests' });
    const response = await comment(original.iid, `/clone ${foreign}`);
    expect(response.status).toBe(202);
    expect(response.body.summary).toEqual([`Cloned this issue to ${foreign}.`]);
    expect((await t.client.state({ project: foreign })).issues).toHaveLength(0);
    expect((await notesOf(team.path, original.iid)).filter((note) => note.system)).toHaveLength(0);
  });

  it('reports an unknown target project and wrong parameters', async () => {
    const original = await createIssue({ title: 'Unknown target' });
    const missing = await comment(original.iid, '/clone nowhere/at-all');
    expect(missing.body.summary).toEqual([
      "Failed to clone this issue because target project doesn't exist.",
    ]);
    const wrong = await comment(original.iid, '/clone qa/other extra');
    expect(wrong.body.summary).toEqual(['Failed to clone this issue: wrong parameters.']);
    expect((await issues(team.path)).filter((issue) => issue.title === 'Unknown target')).toHaveLength(1);
  });

  it('is not available to a Guest (admin_issue is needed in the source project)', async () => {
    const original = await createIssue({ title: 'Guest tries to clone' });
    const response = await comment(original.iid, '/clone', team.tokens.guest);
    expect(response.status).toBe(202);
    expect(response.body.summary).toEqual([]);
    expect((await issues(team.path)).filter((issue) => issue.title === 'Guest tries to clone')).toHaveLength(
      1,
    );
  });

  it('clones after the other commands of the note, so the copy has their effect', async () => {
    await t.client.createLabel(team.path, { name: 'regression' });
    const original = await createIssue({
      title: 'Label then clone',
      confidential: true,
      due_date: '2030-01-31',
    });
    const response = await comment(original.iid, '/label ~regression\n/clone');
    expect(response.body.summary).toEqual(['Added ~regression label.', `Cloned this issue to ${team.path}.`]);
    const copy = (await issues(team.path)).find(
      (issue) => issue.title === 'Label then clone' && issue.iid !== original.iid,
    )!;
    expect(copy).toMatchObject({ labels: ['regression'], confidential: true, due_date: '2030-01-31' });
  });
});
