import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';

describe('projects, members and permissions', () => {
  let t: TestSim;
  let team: TeamProject;
  let p: string;

  beforeAll(async () => {
    t = await startTestSim();
    team = await createTeamProject(t.client, 'acme/platform/backend');
    p = enc(team.path);
  });

  afterAll(() => t.close());

  describe('project lookup', () => {
    it('finds a project by numeric id and by URL-encoded path with nested groups', async () => {
      const byId = await t.api<{ id: number; path_with_namespace: string }>(
        'GET',
        `/projects/${team.projectId}`,
        { token: team.tokens.developer },
      );
      const byPath = await t.api<{ id: number; namespace: { full_path: string } }>('GET', `/projects/${p}`, {
        token: team.tokens.developer,
      });
      expect(byId.body.path_with_namespace).toBe('acme/platform/backend');
      expect(byPath.body.id).toBe(team.projectId);
      expect(byPath.body.namespace.full_path).toBe('acme/platform');
    });

    it('answers an unencoded path with the unknown-route 404', async () => {
      const response = await t.api('GET', '/projects/acme/platform/backend', {
        token: team.tokens.developer,
      });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: '404 Not Found' });
    });

    it('reports the caller role in permissions.project_access', async () => {
      const response = await t.api<{
        permissions: { project_access: { access_level: number }; group_access: null };
      }>('GET', `/projects/${p}`, {
        token: team.tokens.maintainer,
      });
      expect(response.body.permissions.project_access.access_level).toBe(40);
      expect(response.body.permissions.group_access).toBeNull();
    });

    it('hides a private project from non-members and anonymous callers', async () => {
      for (const token of [team.tokens.outsider, undefined]) {
        const response = await t.api('GET', `/projects/${p}`, { token });
        expect(response.status).toBe(404);
        expect(response.body).toEqual({ message: '404 Project Not Found' });
      }
      expect((await t.api('GET', `/projects/${p}/issues`, { token: team.tokens.outsider })).status).toBe(404);
    });

    it('lets anyone read a public project but requires a token to write', async () => {
      await t.client.createProject({ path: 'oss/library', visibility: 'public' });
      await t.client.createIssue('oss/library', {
        as: `owner-${team.path.replace(/\//g, '-')}`,
        title: 'Public issue',
      });
      const anonymous = await t.api<unknown[]>('GET', '/projects/oss%2Flibrary/issues');
      expect(anonymous.status).toBe(200);
      expect(anonymous.body).toHaveLength(1);
      expect((await t.api('POST', '/projects/oss%2Flibrary/issues', { body: { title: 'x' } })).status).toBe(
        401,
      );
      const outsider = await t.api('POST', '/projects/oss%2Flibrary/issues', {
        token: team.tokens.outsider,
        body: { title: 'From a stranger' },
      });
      expect(outsider.status).toBe(201);
    });
  });

  describe('members/all', () => {
    it('returns the effective membership with its access level', async () => {
      for (const [role, level] of [
        ['guest', 10],
        ['reporter', 20],
        ['developer', 30],
        ['maintainer', 40],
        ['owner', 50],
      ] as const) {
        const response = await t.api<{ access_level: number; username: string }>(
          'GET',
          `/projects/${p}/members/all/${team.userIds[role]}`,
          {
            token: team.tokens.developer,
          },
        );
        expect(response.status).toBe(200);
        expect(response.body.access_level).toBe(level);
      }
    });

    it('includes members inherited from ancestor groups, the highest level winning', async () => {
      await t.client.createUser({ username: 'grace' });
      await t.client.addMember({ group: 'acme', username: 'grace', accessLevel: 40 });
      await t.client.addMember({ project: team.path, username: 'grace', accessLevel: 20 });
      const grace = (await t.client.state()).users.find((user) => user['username'] === 'grace')!;
      const response = await t.api<{ access_level: number }>(
        'GET',
        `/projects/${p}/members/all/${String(grace['id'])}`,
        { token: team.tokens.developer },
      );
      expect(response.body.access_level).toBe(40);
      const direct = await t.api<{ access_level: number }>(
        'GET',
        `/projects/${p}/members/${String(grace['id'])}`,
        { token: team.tokens.developer },
      );
      expect(direct.body.access_level).toBe(20);
    });

    it('answers 404 "404 Not found" for a user who is not a member', async () => {
      const response = await t.api('GET', `/projects/${p}/members/all/${team.userIds.outsider}`, {
        token: team.tokens.developer,
      });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ message: '404 Not found' });
    });
  });

  describe('roles on issues, notes, labels and hooks', () => {
    it('lets a Guest open an issue but ignores the labels it sends', async () => {
      const response = await t.api<{ labels: string[] }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.guest,
        body: { title: 'Guest report', labels: 'bug' },
      });
      expect(response.status).toBe(201);
      expect(response.body.labels).toEqual([]);
    });

    it('lets a Reporter create issues with new labels and comment', async () => {
      const issue = await t.api<{ iid: number; labels: string[] }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.reporter,
        body: { title: 'Reporter issue', labels: 'needs-triage' },
      });
      expect(issue.status).toBe(201);
      expect(issue.body.labels).toEqual(['needs-triage']);
      const note = await t.api('POST', `/projects/${p}/issues/${issue.body.iid}/notes`, {
        token: team.tokens.reporter,
        body: { body: 'Seen it' },
      });
      expect(note.status).toBe(201);
    });

    it("refuses a Guest editing somebody else's issue with 403, but lets the author edit their own", async () => {
      const mine = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.guest,
        body: { title: 'Mine' },
      });
      const theirs = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'Theirs' },
      });
      const denied = await t.api('PUT', `/projects/${p}/issues/${theirs.body.iid}`, {
        token: team.tokens.guest,
        body: { title: 'Hijacked' },
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ message: '403 Forbidden' });
      const allowed = await t.api<{ title: string }>('PUT', `/projects/${p}/issues/${mine.body.iid}`, {
        token: team.tokens.guest,
        body: { title: 'Mine, edited' },
      });
      expect(allowed.body.title).toBe('Mine, edited');
    });

    it('lets only owners delete issues', async () => {
      const issue = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'To delete' },
      });
      expect(
        (await t.api('DELETE', `/projects/${p}/issues/${issue.body.iid}`, { token: team.tokens.maintainer }))
          .status,
      ).toBe(403);
      const deleted = await t.api('DELETE', `/projects/${p}/issues/${issue.body.iid}`, {
        token: team.tokens.owner,
      });
      expect(deleted.status).toBe(204);
      const gone = await t.api('GET', `/projects/${p}/issues/${issue.body.iid}`, {
        token: team.tokens.owner,
      });
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ message: '404 Not found' });
    });

    it('hides confidential issues from Guests who are neither author nor assignee', async () => {
      const secret = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'Secret', confidential: true },
      });
      expect(
        (await t.api('GET', `/projects/${p}/issues/${secret.body.iid}`, { token: team.tokens.guest })).status,
      ).toBe(404);
      const list = await t.api<Array<{ iid: number }>>('GET', `/projects/${p}/issues?per_page=100`, {
        token: team.tokens.guest,
      });
      expect(list.body.map((issue) => issue.iid)).not.toContain(secret.body.iid);
      expect(
        (await t.api('GET', `/projects/${p}/issues/${secret.body.iid}`, { token: team.tokens.reporter }))
          .status,
      ).toBe(200);
      const notes = await t.api('GET', `/projects/${p}/issues/${secret.body.iid}/notes`, {
        token: team.tokens.guest,
      });
      expect(notes.status).toBe(404);
      expect(notes.body).toEqual({ message: '404 Issue Not Found' });
    });

    it('keeps internal notes from Guests and refuses them to create one', async () => {
      const issue = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'Internal talk' },
      });
      await t.api('POST', `/projects/${p}/issues/${issue.body.iid}/notes`, {
        token: team.tokens.developer,
        body: { body: 'internal only', internal: true },
      });
      const asGuest = await t.api<unknown[]>('GET', `/projects/${p}/issues/${issue.body.iid}/notes`, {
        token: team.tokens.guest,
      });
      expect(asGuest.body).toHaveLength(0);
      const asReporter = await t.api<Array<{ internal: boolean }>>(
        'GET',
        `/projects/${p}/issues/${issue.body.iid}/notes`,
        { token: team.tokens.reporter },
      );
      expect(asReporter.body.map((note) => note.internal)).toEqual([true]);
      const refused = await t.api('POST', `/projects/${p}/issues/${issue.body.iid}/notes`, {
        token: team.tokens.guest,
        body: { body: 'x', internal: true },
      });
      expect(refused.status).toBe(403);
    });

    it('lets only the author edit a note', async () => {
      const issue = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'Notes' },
      });
      const note = await t.api<{ id: number }>('POST', `/projects/${p}/issues/${issue.body.iid}/notes`, {
        token: team.tokens.developer,
        body: { body: 'v1' },
      });
      const path = `/projects/${p}/issues/${issue.body.iid}/notes/${note.body.id}`;
      expect((await t.api('PUT', path, { token: team.tokens.maintainer, body: { body: 'v2' } })).status).toBe(
        403,
      );
      const edited = await t.api<{ body: string }>('PUT', path, {
        token: team.tokens.developer,
        body: { body: 'v2' },
      });
      expect(edited.body.body).toBe('v2');
      expect((await t.api('DELETE', path, { token: team.tokens.maintainer })).status).toBe(204);
    });

    it('requires Maintainer for hooks: 403 for a Developer, 201 for a Maintainer', async () => {
      const denied = await t.api('POST', `/projects/${p}/hooks`, {
        token: team.tokens.developer,
        body: { url: 'http://127.0.0.1:9/hook' },
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ message: '403 Forbidden' });
      expect((await t.api('GET', `/projects/${p}/hooks`, { token: team.tokens.developer })).status).toBe(403);
      expect(
        (
          await t.api('POST', `/projects/${p}/hooks`, {
            token: team.tokens.maintainer,
            body: { url: 'http://127.0.0.1:9/hook' },
          })
        ).status,
      ).toBe(201);
    });
  });

  describe('labels', () => {
    it('answers 409 {"message":"Label already exists"} for an existing project or ancestor-group label', async () => {
      await t.client.createLabel(team.path, { name: 'duplicate' });
      await t.client.createGroupLabel('acme', { name: 'from-group', color: '#123456' });
      for (const name of ['duplicate', 'from-group']) {
        const response = await t.api('POST', `/projects/${p}/labels`, {
          token: team.tokens.maintainer,
          body: { name, color: '#FF0000' },
        });
        expect(response.status).toBe(409);
        expect(response.body).toEqual({ message: 'Label already exists' });
      }
      const list = await t.api<Array<{ name: string; is_project_label: boolean }>>(
        'GET',
        `/projects/${p}/labels`,
        { token: team.tokens.developer },
      );
      expect(list.body.find((label) => label.name === 'from-group')?.is_project_label).toBe(false);
    });

    it('answers Grape and model errors for bad label input', async () => {
      const missing = await t.api('POST', `/projects/${p}/labels`, {
        token: team.tokens.maintainer,
        body: { name: 'no-colour' },
      });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ error: 'color is missing' });
      const invalid = await t.api('POST', `/projects/${p}/labels`, {
        token: team.tokens.maintainer,
        body: { name: 'a,b', color: 'not-a-colour' },
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toEqual({
        message: { title: ['is invalid'], color: ['must be a valid color code'] },
      });
    });

    it('with label creation forbidden: POST labels is 403 and issues silently skip unknown labels', async () => {
      await t.client.createProject({ path: 'acme/locked' });
      await t.client.addMember({
        project: 'acme/locked',
        username: `maintainer-${team.path.replace(/\//g, '-')}`,
        accessLevel: 40,
      });
      await t.client.createLabel('acme/locked', { name: 'known' });
      await t.client.updateProject('acme/locked', { labelCreationForbidden: true });
      const create = await t.api('POST', '/projects/acme%2Flocked/labels', {
        token: team.tokens.maintainer,
        body: { name: 'new', color: '#00FF00' },
      });
      expect(create.status).toBe(403);
      expect(create.body).toEqual({ message: '403 Forbidden' });
      const issue = await t.api<{ iid: number; labels: string[] }>('POST', '/projects/acme%2Flocked/issues', {
        token: team.tokens.maintainer,
        body: { title: 'Labelled', labels: 'known,unknown' },
      });
      expect(issue.status).toBe(201);
      expect(issue.body.labels).toEqual(['known']);
      const updated = await t.api<{ labels: string[] }>(
        'PUT',
        `/projects/acme%2Flocked/issues/${issue.body.iid}`,
        {
          token: team.tokens.maintainer,
          body: { add_labels: 'another-unknown' },
        },
      );
      expect(updated.body.labels).toEqual(['known']);
    });
  });

  describe('issue errors', () => {
    it('answers 400 with Grape messages for missing and invalid parameters', async () => {
      const noTitle = await t.api('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { description: 'x' },
      });
      expect(noTitle.status).toBe(400);
      expect(noTitle.body).toEqual({ error: 'title is missing' });
      const badState = await t.api('GET', `/projects/${p}/issues?state=open`, {
        token: team.tokens.developer,
      });
      expect(badState.body).toEqual({ error: 'state does not have a valid value' });
      const badDate = await t.api('GET', `/projects/${p}/issues?updated_after=yesterday`, {
        token: team.tokens.developer,
      });
      expect(badDate.body).toEqual({ error: 'updated_after is invalid' });
      const blank = await t.api('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: '   ' },
      });
      expect(blank.body).toEqual({ message: { title: ["can't be blank"] } });
    });

    it('answers an update without any parameter with 400 at_least_one_of', async () => {
      const issue = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.developer,
        body: { title: 'x' },
      });
      const response = await t.api<{ error: string }>('PUT', `/projects/${p}/issues/${issue.body.iid}`, {
        token: team.tokens.developer,
        body: {},
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(
        /^assignee_id, assignee_ids, .*, title, issue_type are missing, at least one parameter must be provided$/,
      );
    });

    it('accepts form-encoded bodies like GitLab does', async () => {
      const response = await t.api<{ title: string; labels: string[] }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.maintainer,
        form: true,
        body: { title: 'From curl', labels: 'curl,form' },
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ title: 'From curl', labels: ['curl', 'form'] });
    });
  });
});
