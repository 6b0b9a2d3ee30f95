import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';

interface Issue {
  iid: number;
  title: string;
  state: string;
  labels: string[];
  updated_at: string;
  created_at: string;
  closed_at: string | null;
  closed_by: { username: string } | null;
  confidential: boolean;
  user_notes_count: number;
  description: string | null;
}
interface Note {
  id: number;
  body: string;
  system: boolean;
  created_at: string;
}

describe('issues and notes behave as GitLab', () => {
  let t: TestSim;
  let team: TeamProject;
  let p: string;
  const maintainer = () => `maintainer-${team.path.replace(/\//g, '-')}`;

  beforeAll(async () => {
    t = await startTestSim();
    team = await createTeamProject(t.client, 'qa/tracker');
    p = enc(team.path);
  });

  afterAll(() => t.close());

  const create = async (body: Record<string, unknown>, token = team.tokens.maintainer): Promise<Issue> => {
    const response = await t.api<Issue>('POST', `/projects/${p}/issues`, { token, body });
    expect(response.status).toBe(201);
    return response.body;
  };
  const update = async (iid: number, body: Record<string, unknown>): Promise<Issue> => {
    const response = await t.api<Issue>('PUT', `/projects/${p}/issues/${iid}`, {
      token: team.tokens.maintainer,
      body,
    });
    expect(response.status).toBe(200);
    return response.body;
  };
  const notes = async (iid: number, query = ''): Promise<Note[]> =>
    (
      await t.api<Note[]>('GET', `/projects/${p}/issues/${iid}/notes${query}`, {
        token: team.tokens.maintainer,
      })
    ).body;

  describe('writes', () => {
    it('numbers issues per project and creates missing labels', async () => {
      const first = await create({ title: 'One', labels: 'priority::high,bug' });
      const second = await create({ title: 'Two' });
      expect(second.iid).toBe(first.iid + 1);
      expect(first.labels).toEqual(['bug', 'priority::high']);
      const labels = await t.api<Array<{ name: string }>>('GET', `/projects/${p}/labels`, {
        token: team.tokens.maintainer,
      });
      expect(labels.body.map((label) => label.name)).toEqual(
        expect.arrayContaining(['bug', 'priority::high']),
      );
    });

    it('replaces labels with `labels`, adds and removes with add_labels/remove_labels (no scoped exclusivity)', async () => {
      const issue = await create({ title: 'Labels', labels: 'a,b' });
      expect((await update(issue.iid, { labels: 'c' })).labels).toEqual(['c']);
      expect((await update(issue.iid, { add_labels: 'priority::low,priority::medium' })).labels).toEqual([
        'c',
        'priority::low',
        'priority::medium',
      ]);
      expect((await update(issue.iid, { remove_labels: 'c,priority::low' })).labels).toEqual([
        'priority::medium',
      ]);
      expect((await update(issue.iid, { labels: '' })).labels).toEqual([]);
    });

    it('closes and reopens with state_event, setting closed_at/closed_by and bumping updated_at', async () => {
      const issue = await create({ title: 'Lifecycle' });
      const closed = await update(issue.iid, { state_event: 'close' });
      expect(closed.state).toBe('closed');
      expect(closed.closed_at).not.toBeNull();
      expect(closed.closed_by?.username).toBe(maintainer());
      expect(Date.parse(closed.updated_at)).toBeGreaterThanOrEqual(Date.parse(issue.updated_at));
      const reopened = await update(issue.iid, { state_event: 'reopen' });
      expect(reopened).toMatchObject({ state: 'opened', closed_at: null, closed_by: null });
    });

    it('writes system notes for state and label changes, newest first', async () => {
      const issue = await create({ title: 'System notes', labels: 'x' });
      await update(issue.iid, { state_event: 'close' });
      await update(issue.iid, { add_labels: 'y' });
      const list = await notes(issue.iid);
      expect(list.every((note) => note.system)).toBe(true);
      expect(list.map((note) => note.body)).toEqual([expect.stringMatching(/^added ~\d+ label$/), 'closed']);
      const ascending = await notes(issue.iid, '?sort=asc');
      expect(ascending.map((note) => note.body)).toEqual([
        'closed',
        expect.stringMatching(/^added ~\d+ label$/),
      ]);
    });

    it('executes quick actions in descriptions at creation and strips them from the text', async () => {
      await t.client.createLabel(team.path, { name: 'triage' });
      const issue = await create({ title: 'Quick', description: 'Steps to reproduce\n/label ~triage' });
      expect(issue.description).toBe('Steps to reproduce');
      expect(issue.labels).toEqual(['triage']);
      const indented = await create({ title: 'Indented', description: ' /label ~triage' });
      expect(indented.labels).toEqual([]);
    });
  });

  describe('notes', () => {
    it('creates a note (201), counts it, and lists notes newest first', async () => {
      const issue = await create({ title: 'Conversation' });
      for (const body of ['first', 'second', 'third']) {
        const response = await t.api('POST', `/projects/${p}/issues/${issue.iid}/notes`, {
          token: team.tokens.developer,
          body: { body },
        });
        expect(response.status).toBe(201);
      }
      expect((await notes(issue.iid)).map((note) => note.body)).toEqual(['third', 'second', 'first']);
      const after = await t.api<Issue>('GET', `/projects/${p}/issues/${issue.iid}`, {
        token: team.tokens.developer,
      });
      expect(after.body.user_notes_count).toBe(3);
      expect(Date.parse(after.body.updated_at)).toBeGreaterThan(Date.parse(issue.updated_at) - 1);
    });

    it('answers 202 with the commands for a body made only of quick actions, and executes them', async () => {
      await t.client.createLabel(team.path, { name: 'regression' });
      const issue = await create({ title: 'Quick actions' });
      const response = await t.api<{ commands_changes: Record<string, unknown>; summary: string[] }>(
        'POST',
        `/projects/${p}/issues/${issue.iid}/notes`,
        {
          token: team.tokens.developer,
          body: { body: '/close\n/label ~regression' },
        },
      );
      expect(response.status).toBe(202);
      expect(response.body.summary).toEqual(['Closed this issue.', 'Added ~regression label.']);
      expect(response.body.commands_changes).toMatchObject({ state_event: 'close' });
      const after = await t.api<Issue>('GET', `/projects/${p}/issues/${issue.iid}`, {
        token: team.tokens.developer,
      });
      expect(after.body).toMatchObject({ state: 'closed', labels: ['regression'] });
      const list = await notes(issue.iid);
      expect(list.filter((note) => !note.system)).toHaveLength(0);

      const reopen = await t.api('POST', `/projects/${p}/issues/${issue.iid}/notes`, {
        token: team.tokens.developer,
        body: { body: 'Not fixed yet.\n/reopen' },
      });
      expect(reopen.status).toBe(201);
      expect((reopen.body as Note).body).toBe('Not fixed yet.');
      expect(
        (await t.api<Issue>('GET', `/projects/${p}/issues/${issue.iid}`, { token: team.tokens.developer }))
          .body.state,
      ).toBe('opened');
    });

    it('edits and deletes notes; deleting answers 204', async () => {
      const issue = await create({ title: 'Edit me' });
      const note = await t.api<Note>('POST', `/projects/${p}/issues/${issue.iid}/notes`, {
        token: team.tokens.maintainer,
        body: { body: 'draft' },
      });
      const path = `/projects/${p}/issues/${issue.iid}/notes/${note.body.id}`;
      const edited = await t.api<Note>('PUT', path, {
        token: team.tokens.maintainer,
        body: { body: 'final' },
      });
      expect(edited.body.body).toBe('final');
      expect((await t.api<Note>('GET', path, { token: team.tokens.maintainer })).body.body).toBe('final');
      expect((await t.api('DELETE', path, { token: team.tokens.maintainer })).status).toBe(204);
      const gone = await t.api('GET', path, { token: team.tokens.maintainer });
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ message: '404 Not found' });
    });

    it('requires a non-blank body', async () => {
      const issue = await create({ title: 'Empty note' });
      const missing = await t.api('POST', `/projects/${p}/issues/${issue.iid}/notes`, {
        token: team.tokens.maintainer,
        body: {},
      });
      expect(missing.body).toEqual({ error: 'body is missing' });
      const blank = await t.api('POST', `/projects/${p}/issues/${issue.iid}/notes`, {
        token: team.tokens.maintainer,
        body: { body: '  ' },
      });
      expect(blank.body).toEqual({ error: 'body is empty' });
    });
  });

  describe('list filters', () => {
    let project: string;

    beforeAll(async () => {
      project = 'qa/filters';
      await t.client.createProject({ path: project });
      await t.client.addMember({ project, username: maintainer(), accessLevel: 40 });
      const actor = maintainer();
      // One second apart, so that every created_at and updated_at differs.
      const tick = () => t.client.advanceClock(1_000);
      await t.client.createIssue(project, {
        as: actor,
        title: 'Login broken',
        labels: ['bug', 'priority::high'],
      });
      await tick();
      await t.client.createIssue(project, { as: actor, title: 'Export slow', labels: ['performance'] });
      await tick();
      await t.client.createIssue(project, {
        as: actor,
        title: 'Docs typo',
        description: 'The login page says "pasword"',
      });
      await tick();
      await t.client.createIssue(project, {
        as: actor,
        title: 'Secret',
        confidential: true,
        labels: ['bug'],
      });
      await tick();
      await t.client.closeIssue(project, 2, actor);
    });

    const titles = async (query: string): Promise<string[]> => {
      const response = await t.api<Issue[]>('GET', `/projects/${enc(project)}/issues${query}`, {
        token: team.tokens.maintainer,
      });
      expect(response.status).toBe(200);
      return response.body.map((issue) => issue.title);
    };

    it('filters by state', async () => {
      expect(await titles('?state=closed')).toEqual(['Export slow']);
      expect(await titles('?state=opened')).toEqual(['Secret', 'Docs typo', 'Login broken']);
      expect(await titles('?state=all')).toHaveLength(4);
    });

    it('filters by labels (all of them), None and Any', async () => {
      expect(await titles('?labels=bug,priority::high')).toEqual(['Login broken']);
      expect(await titles('?labels=bug')).toEqual(['Secret', 'Login broken']);
      expect(await titles('?labels=None')).toEqual(['Docs typo']);
      expect(await titles('?labels=Any')).toHaveLength(3);
      expect(await titles('?labels=does-not-exist')).toEqual([]);
    });

    it('searches title and description, filters by iids[] and confidential', async () => {
      expect(await titles('?search=login')).toEqual(['Docs typo', 'Login broken']);
      expect(await titles('?search=login&in=title')).toEqual(['Login broken']);
      expect(await titles('?iids[]=1&iids[]=3')).toEqual(['Docs typo', 'Login broken']);
      expect(await titles('?confidential=true')).toEqual(['Secret']);
    });

    it('orders by created_at (default desc), updated_at and title', async () => {
      expect(await titles('?sort=asc')).toEqual(['Login broken', 'Export slow', 'Docs typo', 'Secret']);
      expect((await titles('?order_by=updated_at'))[0]).toBe('Export slow');
      expect(await titles('?order_by=title&sort=asc')).toEqual([
        'Docs typo',
        'Export slow',
        'Login broken',
        'Secret',
      ]);
    });

    it('treats updated_after and updated_before as inclusive', async () => {
      const all = (
        await t.api<Issue[]>('GET', `/projects/${enc(project)}/issues?order_by=updated_at&sort=asc`, {
          token: team.tokens.maintainer,
        })
      ).body;
      const pivot = all[1]!.updated_at;
      const after = await titles(`?order_by=updated_at&sort=asc&updated_after=${encodeURIComponent(pivot)}`);
      expect(after[0]).toBe(all[1]!.title);
      expect(after).toHaveLength(all.length - 1);
      const before = await titles(
        `?order_by=updated_at&sort=asc&updated_before=${encodeURIComponent(pivot)}`,
      );
      expect(before[before.length - 1]).toBe(all[1]!.title);
      const created = all[2]!.created_at;
      expect(
        await titles(
          `?created_after=${encodeURIComponent(created)}&created_before=${encodeURIComponent(created)}`,
        ),
      ).toEqual([all[2]!.title]);
    });
  });
});
