import { fixture } from './helpers/fixtures';
import { expectSameShape } from './helpers/shape';
import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

/**
 * For every GitLab fixture, the simulator's answer (or webhook body) for the same operation has
 * the same keys with the same JSON types. Deviations are listed per case with the reason.
 */
describe('fidelity to the GitLab fixtures', () => {
  let t: TestSim;
  let team: TeamProject;
  let receiver: WebhookReceiver;
  let p: string;

  beforeAll(async () => {
    t = await startTestSim();
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'gitlab-org/gitlab-test');
    p = enc(team.path);
    await t.client.createLabel(team.path, {
      name: 'bug',
      color: '#d9534f',
      description: 'Bug reported by user',
      priority: 10,
    });
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  beforeEach(() => receiver.clear());

  afterEach(async () => {
    const hooks = await t.api<Array<{ id: number }>>('GET', `/projects/${p}/hooks`, {
      token: team.tokens.maintainer,
    });
    for (const hook of hooks.body) await deleteHook(hook.id);
    await t.client.flushDeliveries();
  });

  const createHook = async (body: Record<string, unknown>): Promise<number> => {
    const response = await t.api<{ id: number }>('POST', `/projects/${p}/hooks`, {
      token: team.tokens.maintainer,
      body: { url: receiver.url, ...body },
    });
    expect(response.status).toBe(201);
    return response.body.id;
  };
  const deleteHook = (id: number) =>
    t.api('DELETE', `/projects/${p}/hooks/${id}`, { token: team.tokens.maintainer });

  describe('REST answers', () => {
    it('GET /user matches api-user.json', async () => {
      const response = await t.api('GET', '/user', { token: team.tokens.developer });
      expect(response.status).toBe(200);
      // pronouns are null until a user sets them; identities are empty for local users.
      expectSameShape(response.body, fixture('api-user.json'), {
        nullable: ['pronouns'],
        emptyOk: ['identities'],
      });
    });

    it('GET /personal_access_tokens(/self) matches api-personal-access-tokens-list.json', async () => {
      const created = await t.client.createToken({
        username: `developer-${team.path.replace(/\//g, '-')}`,
        name: 'Test Token',
        scopes: ['api'],
      });
      await t.api('GET', '/user', { token: created.token });
      const list = await t.api<unknown[]>('GET', '/personal_access_tokens', { token: created.token });
      expect(list.status).toBe(200);
      // The fixture's description is a string; a token created without one has null.
      expectSameShape(list.body, fixture('api-personal-access-tokens-list.json'), {
        nullable: ['[].description'],
      });
      const self = await t.api('GET', '/personal_access_tokens/self', { token: created.token });
      expectSameShape(self.body, fixture<unknown[]>('api-personal-access-tokens-list.json')[0], {
        nullable: ['description'],
      });
    });

    it('GET /projects/:id/members/all/:user_id matches api-project-member-all.json', async () => {
      const response = await t.api('GET', `/projects/${p}/members/all/${team.userIds.developer}`, {
        token: team.tokens.developer,
      });
      expect(response.status).toBe(200);
      // UserBasic carries `locked` (GitLab 15+), members carry `membership_state`.
      expectSameShape(response.body, fixture('api-project-member-all.json'), {
        allowExtra: ['locked', 'created_by.locked', 'membership_state'],
      });
    });

    const issueOptions = {
      // Not modelled: milestones (always null). discussion_locked is null until someone locks.
      nullable: ['milestone', 'discussion_locked', '_links.closed_as_duplicate_of', 'closed_by', 'due_date'],
      // `moved_to_id` is exposed by API::Entities::Issue; the documented examples leave it out.
      allowExtra: ['**.locked', 'moved_to_id'],
    };

    it('POST, GET, PUT and list issues match the issue fixtures', async () => {
      const created = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.maintainer,
        body: {
          title: 'Issues with auth',
          labels: 'bug',
          assignee_ids: [team.userIds.developer],
          due_date: '2016-07-22',
        },
      });
      expect(created.status).toBe(201);
      // The create example predates `imported`/`imported_from` (same entity as GET).
      expectSameShape(created.body, fixture('api-issue-create.json'), {
        ...issueOptions,
        allowExtra: [...issueOptions.allowExtra, 'imported', 'imported_from'],
        nullable: [...issueOptions.nullable, 'description'],
      });

      const described = await t.api<{ iid: number }>('POST', `/projects/${p}/issues`, {
        token: team.tokens.maintainer,
        body: {
          title: 'Ut commodi ullam',
          description: 'Omnis vero earum',
          assignee_ids: [team.userIds.developer],
        },
      });
      const single = await t.api('GET', `/projects/${p}/issues/${described.body.iid}`, {
        token: team.tokens.developer,
      });
      expect(single.status).toBe(200);
      expectSameShape(single.body, fixture('api-issue.json'), issueOptions);

      const closed = await t.api('PUT', `/projects/${p}/issues/${created.body.iid}`, {
        token: team.tokens.maintainer,
        body: { state_event: 'close' },
      });
      expect(closed.status).toBe(200);
      expectSameShape(closed.body, fixture('api-issue-update-close.json'), {
        ...issueOptions,
        // This example predates `type` as well.
        allowExtra: [...issueOptions.allowExtra, 'imported', 'imported_from', 'type'],
        nullable: [...issueOptions.nullable, 'description'],
      });

      const list = await t.api<unknown[]>('GET', `/projects/${p}/issues?state=closed`, {
        token: team.tokens.developer,
      });
      expect(list.status).toBe(200);
      expect(list.body.length).toBeGreaterThan(0);
      expectSameShape(list.body, fixture('api-issues-list.json'), {
        ...issueOptions,
        nullable: [...issueOptions.nullable.map((path) => `[].${path}`), '[].description'],
        allowExtra: ['**.locked', '[].moved_to_id'],
      });
    });

    it('GET notes matches api-issue-notes-list.json (system notes included)', async () => {
      const issue = await t.client.createIssue(team.path, {
        as: `maintainer-${team.path.replace(/\//g, '-')}`,
        title: 'With notes',
      });
      await t.client.addNote(team.path, issue.iid, {
        as: `developer-${team.path.replace(/\//g, '-')}`,
        body: 'Text of the comment',
      });
      await t.client.closeIssue(team.path, issue.iid, `maintainer-${team.path.replace(/\//g, '-')}`);
      const notes = await t.api<Array<{ system: boolean }>>(
        'GET',
        `/projects/${p}/issues/${issue.iid}/notes`,
        { token: team.tokens.developer },
      );
      expect(notes.status).toBe(200);
      expect(notes.body.map((note) => note.system)).toEqual([true, false]);
      // Authors are UserBasic (locked, avatar_url, web_url) plus the documented email and created_at.
      expectSameShape(notes.body, fixture('api-issue-notes-list.json'), {
        allowExtra: ['[].author.locked', '[].author.avatar_url', '[].author.web_url'],
      });
    });

    it('POST and GET labels match api-label-create.json and api-labels-list.json', async () => {
      const created = await t.api('POST', `/projects/${p}/labels`, {
        token: team.tokens.maintainer,
        body: { name: 'feature', color: '#5843AD' },
      });
      expect(created.status).toBe(201);
      expectSameShape(created.body, fixture('api-label-create.json'));
      const list = await t.api<unknown[]>('GET', `/projects/${p}/labels?with_counts=true`, {
        token: team.tokens.developer,
      });
      expect(list.status).toBe(200);
      // The list example's first label has a description; labels without one have null.
      expectSameShape(list.body, fixture('api-labels-list.json'), {
        nullable: ['[].description', '[].description_html', '[].priority'],
      });
    });

    it('GET hook matches api-hook.json; the events log matches api-hook-events.json', async () => {
      const hookId = await createHook({
        name: 'Hook name',
        description: 'Hook description',
        token: 'secret',
        issues_events: true,
        custom_webhook_template: '{"event":"{{object_kind}}"}',
        custom_headers: [{ key: 'Authorization', value: 'Bearer x' }],
      });
      const hook = await t.api('GET', `/projects/${p}/hooks/${hookId}`, { token: team.tokens.maintainer });
      expect(hook.status).toBe(200);
      // 19.0 adds token_present/signing_token_present; later flags and the branch filter strategy also appear.
      expectSameShape(hook.body, fixture('api-hook.json'), {
        allowExtra: [
          'milestone_events',
          'emoji_events',
          'vulnerability_events',
          'branch_filter_strategy',
          'token_present',
          'signing_token_present',
        ],
      });

      await t.client.createIssue(team.path, {
        as: `developer-${team.path.replace(/\//g, '-')}`,
        title: 'Logged delivery',
      });
      await receiver.waitFor(1);
      await t.client.flushDeliveries();
      const events = await t.api<unknown[]>('GET', `/projects/${p}/hooks/${hookId}/events`, {
        token: team.tokens.maintainer,
      });
      expect(events.status).toBe(200);
      expect(events.body).toHaveLength(1);
      // The fixture logs a push event: request_data and the receiver's headers differ by nature.
      expectSameShape(events.body, fixture('api-hook-events.json'), {
        ignoreMissing: ['[].request_data.**', '[].response_headers.**'],
        // Custom headers are logged (value redacted) next to GitLab's own.
        allowExtra: ['[].request_data.**', '[].response_headers.**', '[].request_headers.Authorization'],
      });
      await deleteHook(hookId);
    });
  });

  describe('webhook bodies', () => {
    const allEvents = {
      push_events: false,
      issues_events: true,
      confidential_issues_events: true,
      note_events: true,
      confidential_note_events: true,
    };
    const maintainerName = () => `maintainer-${team.path.replace(/\//g, '-')}`;
    const developerName = () => `developer-${team.path.replace(/\//g, '-')}`;

    it('an issue update with a label change matches webhook-issue-open.json', async () => {
      const hookId = await createHook(allEvents);
      await t.client.createLabel(team.path, {
        name: 'API',
        color: '#ffffff',
        description: 'API related issues',
      });
      await t.client.createLabel(team.path, {
        name: 'Platform',
        color: '#123123',
        description: 'Platform related issues',
      });
      const issue = await t.client.createIssue(team.path, {
        as: maintainerName(),
        title: 'New API: create/update/delete file',
        description: 'Create new API',
        labels: ['API'],
        assignees: [developerName()],
      });
      await receiver.waitFor(1);
      await t.client.updateIssue(team.path, issue.iid, { as: developerName(), labels: ['Platform'] });
      const [, update] = await receiver.waitFor(2);
      expect(update!.headers['x-gitlab-event']).toBe('Issue Hook');
      expect(update!.body['object_attributes']).toMatchObject({ action: 'update' });
      expect(Object.keys(update!.body['changes'] as object).sort()).toEqual([
        'labels',
        'updated_at',
        'updated_by_id',
      ]);
      expectSameShape(update!.body, fixture('webhook-issue-open.json'), {
        // Incident-only (EE escalation) attributes are not sent for issues.
        ignoreMissing: ['object_attributes.escalation_status', 'object_attributes.escalation_policy'],
        // Present in real 2023–2026 payloads.
        allowExtra: [
          'object_attributes.closed_at',
          'object_attributes.customer_relations_contacts',
          'assignees[].id',
          'assignees[].email',
          'assignee.id',
          'assignee.email',
        ],
        // Project labels have no group; unset attributes are null.
        nullable: ['**.group_id', 'object_attributes.health_status', 'object_attributes.discussion_locked'],
      });
      await deleteHook(hookId);
    });

    const noteIssueExtras = [
      'closed_at',
      'due_date',
      'confidential',
      'discussion_locked',
      'last_edited_at',
      'last_edited_by_id',
      'moved_to_id',
      'duplicated_to_id',
      'relative_position',
      'state_id',
      'time_estimate',
      'updated_by_id',
      'weight',
      'health_status',
      'url',
      'total_time_spent',
      'time_change',
      'human_total_time_spent',
      'human_time_change',
      'human_time_estimate',
      'severity',
      'type',
    ];

    it('a comment matches webhook-note-issue.json', async () => {
      const hookId = await createHook(allEvents);
      const issue = await t.client.createIssue(team.path, {
        as: maintainerName(),
        title: 'test',
        description: 'test',
        labels: ['bug'],
      });
      await t.client.closeIssue(team.path, issue.iid, maintainerName());
      await receiver.waitFor(2);
      receiver.clear();
      await t.client.addNote(team.path, issue.iid, { as: developerName(), body: 'Hello world' });
      const [note] = await receiver.waitFor(1);
      expect(note!.headers['x-gitlab-event']).toBe('Note Hook');
      expectSameShape(note!.body, fixture('webhook-note-issue.json'), {
        // GitLab 7-era attributes no longer sent.
        ignoreMissing: ['issue.position', 'issue.branch_name'],
        // All present in the real 2023 payload (real/webhook-confidential-note-issue-2023.json).
        allowExtra: [
          'object_attributes.change_position',
          'object_attributes.discussion_id',
          'object_attributes.original_position',
          'object_attributes.position',
          'object_attributes.resolved_at',
          'object_attributes.resolved_by_id',
          'object_attributes.resolved_by_push',
          'object_attributes.type',
          'object_attributes.updated_by_id',
          'object_attributes.description',
          'project.ci_config_path',
          ...noteIssueExtras.map((key) => `issue.${key}`),
        ],
        nullable: ['**.group_id'],
      });
      await deleteHook(hookId);
    });

    it('an internal note matches real/webhook-confidential-note-issue-2023.json and goes to the Confidential Note Hook', async () => {
      const hookId = await createHook(allEvents);
      const issue = await t.client.createIssue(team.path, {
        as: maintainerName(),
        title: 'Add more lines',
        description: 'I think we should add a couple of more lines.',
      });
      await receiver.waitFor(1);
      receiver.clear();
      await t.client.addNote(team.path, issue.iid, {
        as: developerName(),
        body: 'Some more comments',
        internal: true,
      });
      const [note] = await receiver.waitFor(1);
      expect(note!.headers['x-gitlab-event']).toBe('Confidential Note Hook');
      expect(note!.body['event_type']).toBe('confidential_note');
      expectSameShape(note!.body, fixture('real/webhook-confidential-note-issue-2023.json'), {
        // `internal` and `action` were added to note payloads after this capture (16.11+).
        allowExtra: ['object_attributes.internal', 'object_attributes.action', 'issue.type'],
        nullable: ['project.ci_config_path'],
      });
      await deleteHook(hookId);
    });

    it('a Task work item matches real/webhook-work-item-task-open-2026.json', async () => {
      const hookId = await createHook(allEvents);
      await t.client.createWorkItem(team.path, {
        as: developerName(),
        type: 'Task',
        title: 'Sample Task.',
        description: 'Sample Task.',
      });
      const [task] = await receiver.waitFor(1);
      expect(task!.headers['x-gitlab-event']).toBe('Issue Hook');
      expect(task!.body).toMatchObject({
        object_kind: 'work_item',
        event_type: 'work_item',
        object_attributes: { type: 'Task', action: 'open' },
      });
      expect((task!.body['object_attributes'] as { url: string }).url).toMatch(/\/-\/work_items\/\d+$/);
      expectSameShape(task!.body, fixture('real/webhook-work-item-task-open-2026.json'), {
        nullable: ['project.ci_config_path'],
      });
      await deleteHook(hookId);
    });

    it('legacy mode sends real/webhook-issue-open-null-description-2018.json', async () => {
      const hookId = await createHook(allEvents);
      await t.client.updateProject(team.path, { legacyPayloads: true });
      try {
        await t.client.createIssue(team.path, { as: developerName(), title: 'Issue without description' });
        const [opened] = await receiver.waitFor(1);
        expect(opened!.body).not.toHaveProperty('event_type');
        expect(opened!.body['user']).not.toHaveProperty('id');
        expect((opened!.body['object_attributes'] as { url: string; created_at: string }).url).toMatch(
          /\/issues\/\d+$/,
        );
        expect((opened!.body['object_attributes'] as { created_at: string }).created_at).toMatch(
          /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
        );
        expectSameShape(opened!.body, fixture('real/webhook-issue-open-null-description-2018.json'));
      } finally {
        await t.client.updateProject(team.path, { legacyPayloads: null });
        await deleteHook(hookId);
      }
    });
  });
});
