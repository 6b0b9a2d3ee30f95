import 'reflect-metadata';

import type { DefectPushedV1, DefectPushFailedV1 } from '@testkase/contracts';
import { eventually } from '@testkase/testing';

import { DefectWorld, type LinkedProject } from './support/defect-world';

jest.setTimeout(120_000);

/**
 * Pushing defects, end to end: gitlab-sim, the real gateway, connection-service and defect-sync,
 * real Postgres and NATS; the test talks only HTTP, gRPC, webhooks and NATS.
 */
describe('defect-sync: push', () => {
  let world: DefectWorld;
  let project: LinkedProject;

  beforeAll(async () => {
    world = await DefectWorld.start('ds_push');
    project = await world.linkedProject();
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('pushes with every priority, with and without execution context: one issue each, labelled, linked back', async () => {
    const cases = [
      ['DEF-P1', 'Blocker', 'priority::critical'],
      ['DEF-P2', 'Critical', 'priority::high'],
      ['DEF-P3', 'Major', 'priority::medium'],
      ['DEF-P4', 'Minor', 'priority::low'],
      ['DEF-P5', 'Trivial', 'priority::low'],
    ] as const;
    for (const [defectId, priority, label] of cases) {
      const withContext = defectId !== 'DEF-P5';
      const answer = await world.push(project.projectId, defectId, {
        title: `Crash on ${defectId}`,
        priority,
        context: withContext
          ? {
              testCaseKey: 'TC-112',
              testCaseTitle: 'Checkout with [brackets] and *stars*',
              testCaseUrl: 'https://testkase.example.com/demo/test-cases/TC-112',
              cycle: 'Sprint 14 regression',
              executionUrl: 'https://testkase.example.com/demo/executions/9001',
              failedStep: '3. Pay with card 4000 0000 0000 0069',
            }
          : undefined,
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({
        outcome: 'created',
        defect: {
          defectId,
          priority,
          syncStatus: 'synced',
          warnings: [],
          issue: {
            platform: 'gitlab',
            gitlabProjectId: project.gitlab.id,
            webUrl: expect.stringContaining('/-/issues/'),
          },
        },
      });
      const iid = answer.body.defect!.issue!.iid;
      const issue = await world.issue(project.gitlab, iid);
      expect(issue.title).toBe(`Crash on ${defectId}`);
      expect(issue.labels).toEqual([label]);
      expect(issue.state).toBe('opened');
      const description = issue.description ?? '';
      expect(description).toContain('Pay with an **expired** card.');
      expect(description).toContain(
        `[View defect ${defectId} in TestKase](https://testkase.example.com/${project.projectId}/defects/${defectId})`,
      );
      expect(description.trimEnd().endsWith(`<!-- testkase:defect:${defectId} -->`)).toBe(true);
      if (withContext) {
        expect(description).toContain(
          '- Test case: [TC-112 Checkout with \\[brackets\\] and \\*stars\\*](https://testkase.example.com/demo/test-cases/TC-112)',
        );
        expect(description).toContain('- Cycle: Sprint 14 regression');
        expect(description).toContain(
          '- Execution: [open the test run](https://testkase.example.com/demo/executions/9001)',
        );
        expect(description).toContain('- Failed step: 3. Pay with card 4000 0000 0000 0069');
      } else {
        expect(description).not.toContain('Found while testing');
      }
    }
    // Missing labels were created first, with our colours; one issue per defect.
    const labels = (await project.gitlab.sim.state({ project: project.gitlab.id })).labels as Array<{
      title?: string;
      name?: string;
    }>;
    const titles = labels.map((label) => label.title ?? label.name);
    expect(titles).toEqual(
      expect.arrayContaining(['priority::critical', 'priority::high', 'priority::medium', 'priority::low']),
    );
    for (const [defectId] of cases)
      expect(await world.issuesWithMarker(project.gitlab, defectId)).toHaveLength(1);
    await eventually(async () => {
      const pushed = await world.events<DefectPushedV1>(
        'testkase.defect.pushed',
        project.projectId,
        'DEF-P1',
      );
      expect(pushed).toHaveLength(1);
      expect(pushed[0]!.data).toMatchObject({
        created: true,
        defect: { defectId: 'DEF-P1', syncStatus: 'synced' },
      });
    });
  });

  it('answers a second push with the existing link, and creates a Closed defect closed', async () => {
    const first = await world.push(project.projectId, 'DEF-CLOSED', { status: 'Closed', priority: 'Minor' });
    expect(first.status).toBe(201);
    const iid = first.body.defect!.issue!.iid;
    expect((await world.issue(project.gitlab, iid)).state).toBe('closed');
    expect(first.body.defect).toMatchObject({ status: 'Closed', gitlab: { state: 'closed' } });
    const again = await world.push(project.projectId, 'DEF-CLOSED', { title: 'A different title' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'existing', defect: { issue: { iid } } });
    expect(await world.issuesWithMarker(project.gitlab, 'DEF-CLOSED')).toHaveLength(1);
    const shown = await world.get(project.projectId, 'DEF-CLOSED');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      syncStatus: 'synced',
      issue: { iid },
      gitlab: { state: 'closed', labels: ['priority::low'] },
    });
  });

  it("meets GitLab's limits: a long title is shortened and heads the description, a huge description is cut with a note", async () => {
    const longTitle = `${'Very long title '.repeat(30)}end`;
    const answer = await world.push(project.projectId, 'DEF-LONG', {
      title: longTitle,
      descriptionFormat: 'markdown',
      description: `${'é'.repeat(700_000)}`,
    });
    expect(answer.status).toBe(201);
    const issue = await world.issue(project.gitlab, answer.body.defect!.issue!.iid);
    expect([...issue.title].length).toBe(255);
    expect(issue.title.endsWith('…')).toBe(true);
    const description = issue.description ?? '';
    expect(description.startsWith(`**${longTitle}**`)).toBe(true);
    expect(Buffer.byteLength(description, 'utf8')).toBeLessThanOrEqual(1_048_576);
    expect(description).toContain('The description is longer than GitLab allows and was cut here');
    expect(description).toContain('<!-- testkase:defect:DEF-LONG -->');
    expect(answer.body.defect!.title).toBe(longTitle);
  });

  it('keeps hostile text inert: no script reaches GitLab, a /close line does not close the issue', async () => {
    const answer = await world.push(project.projectId, 'DEF-HOSTILE', {
      description:
        '<p>Steps</p><script>alert(1)</script><img src="x" onerror="alert(2)"><p>/close</p><p>/label ~"priority::low"</p>',
    });
    expect(answer.status).toBe(201);
    const issue = await world.issue(project.gitlab, answer.body.defect!.issue!.iid);
    expect(issue.state).toBe('opened');
    expect(issue.labels).toEqual(['priority::medium']);
    expect(issue.description).not.toMatch(/<script|onerror/i);
    expect(issue.description).toContain('\\/close');
  });

  it('creates the issue when label creation is forbidden, says so, and applies the label once it exists', async () => {
    const locked = await world.linkedProject('locked');
    await locked.gitlab.sim.updateProject(locked.gitlab.id, { labelCreationForbidden: true });
    const answer = await world.push(locked.projectId, 'DEF-NOLABEL', { priority: 'Blocker' });
    expect(answer.status).toBe(201);
    expect(answer.body.defect).toMatchObject({
      syncStatus: 'synced',
      warnings: [
        expect.objectContaining({
          code: 'LABEL_CREATION_FORBIDDEN',
          message: expect.stringContaining('priority::critical'),
        }),
      ],
    });
    const iid = answer.body.defect!.issue!.iid;
    expect((await world.issue(locked.gitlab, iid)).labels).toEqual([]);
    // Someone allowed to creates the label; the next reconciliation applies it.
    await locked.gitlab.sim.createLabel(locked.gitlab.id, { name: 'priority::critical', color: '#cc0033' });
    await eventually(
      async () => expect((await world.issue(locked.gitlab, iid)).labels).toEqual(['priority::critical']),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    await eventually(async () =>
      expect((await world.get(locked.projectId, 'DEF-NOLABEL')).body.warnings).toEqual([]),
    );
  });

  it.each([
    ['before GitLab wrote anything', 'before'],
    ['after GitLab created the issue (the answer is lost)', 'after'],
  ] as const)('creates exactly one issue when GitLab answers 500 %s', async (_case, phase) => {
    const defectId = `DEF-500-${phase}`;
    const fault = await project.gitlab.sim.addFault({
      method: 'POST',
      path: `/api/v4/projects/${project.gitlab.id}/issues`,
      kind: 'status',
      status: 500,
      phase,
      count: 1,
    });
    const answer = await world.push(project.projectId, defectId);
    expect([201, 202]).toContain(answer.status);
    const defect = await world.pushed(project, defectId);
    expect(await world.issuesWithMarker(project.gitlab, defectId)).toHaveLength(1);
    expect((await world.issuesWithMarker(project.gitlab, defectId))[0]!.iid).toBe(defect.issue!.iid);
    await project.gitlab.sim.removeFault(fault.id).catch(() => undefined);
    await eventually(async () => {
      const pushed = await world.events<DefectPushedV1>(
        'testkase.defect.pushed',
        project.projectId,
        defectId,
      );
      expect(pushed).toHaveLength(1);
      // After a lost answer the issue is found again by its marker, not created twice.
      expect(pushed[0]!.data.created).toBe(phase === 'before');
    });
  });

  it('creates exactly one issue for twenty concurrent pushes of one defect', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => world.push(project.projectId, 'DEF-RACE')),
    );
    for (const answer of answers) expect([200, 201, 202]).toContain(answer.status);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    const defect = await world.pushed(project, 'DEF-RACE');
    expect(await world.issuesWithMarker(project.gitlab, 'DEF-RACE')).toHaveLength(1);
    for (const answer of answers) {
      if (answer.body.defect?.issue) expect(answer.body.defect.issue.iid).toBe(defect.issue!.iid);
    }
  });

  it('repairs a crash between GitLab creating the issue and the commit: one issue, found again by its marker', async () => {
    await project.gitlab.sim.addFault({
      method: 'POST',
      path: `/api/v4/projects/${project.gitlab.id}/issues`,
      kind: 'latency',
      latencyMs: 5_000,
      phase: 'after',
      count: 1,
    });
    const pending = world.push(project.projectId, 'DEF-CRASH').catch(() => undefined);
    // GitLab has created it; its answer is held back while defect-sync is killed.
    await eventually(
      async () => expect(await world.issuesWithMarker(project.gitlab, 'DEF-CRASH')).toHaveLength(1),
      {
        timeoutMs: 10_000,
        intervalMs: 50,
      },
    );
    await world.stack.app('defect-sync').kill();
    await pending;
    await world.stack.startApp('defect-sync');
    const defect = await world.pushed(project, 'DEF-CRASH');
    const issues = await world.issuesWithMarker(project.gitlab, 'DEF-CRASH');
    expect(issues).toHaveLength(1);
    expect(defect.issue!.iid).toBe(issues[0]!.iid);
    await eventually(async () => {
      const pushed = await world.events<DefectPushedV1>(
        'testkase.defect.pushed',
        project.projectId,
        'DEF-CRASH',
      );
      expect(pushed.map((event) => event.data.created)).toEqual([false]);
    });
  });

  it("refuses what GitLab refuses with GitLab's own message, and leaves nothing half-made", async () => {
    const spam = await world.linkedProject('spam');
    await spam.gitlab.sim.updateProject(spam.gitlab.id, {
      spamCheck: { keywords: ['cheap pills'], captcha: false },
    });
    const refused = await world.push(spam.projectId, 'DEF-SPAM', { title: 'Buy cheap pills' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({
      code: 'GITLAB_REJECTED',
      message: expect.stringContaining('recognized as spam'),
    });
    expect(await world.issuesWithMarker(spam.gitlab, 'DEF-SPAM')).toHaveLength(0);
    expect((await world.get(spam.projectId, 'DEF-SPAM')).body).toMatchObject({
      syncStatus: 'failed',
      issue: null,
      error: { code: 'GITLAB_REJECTED', retryAt: null },
    });
    await eventually(async () =>
      expect(
        await world.events<DefectPushFailedV1>('testkase.defect.push_failed', spam.projectId, 'DEF-SPAM'),
      ).toHaveLength(1),
    );
    // Fixed on TestKase's side: the next push goes through.
    const fixed = await world.push(spam.projectId, 'DEF-SPAM', { title: 'Checkout crashes' });
    expect(fixed.status).toBe(201);
    expect(await world.issuesWithMarker(spam.gitlab, 'DEF-SPAM')).toHaveLength(1);

    await spam.gitlab.sim.updateProject(spam.gitlab.id, { issuesEnabled: false });
    const closed = await world.push(spam.projectId, 'DEF-NOISSUES');
    expect(closed.status).toBe(422);
    expect(closed.body.error?.code).toBe('INSUFFICIENT_ROLE');
    expect(await world.issuesWithMarker(spam.gitlab, 'DEF-NOISSUES')).toHaveLength(0);
  });

  it.each([
    ['an unknown priority', { priority: 'Urgent' }],
    ['an unknown status', { status: 'Done' }],
    ['an empty title', { title: '' }],
    ['a blank title', { title: '   ' }],
    ['a 1 MB title', { title: 'x'.repeat(1_000_000) }],
    ['a URL that is not http(s)', { url: 'javascript:alert(1)' }],
    ['an unknown field', { assignee: 'root' }],
    ['a context with a bad URL', { context: { testCaseUrl: 'ftp://example.com/x' } }],
  ])('refuses %s with VALIDATION_FAILED and stores nothing', async (_case, input) => {
    const defectId = `DEF-BAD-${Math.random().toString(36).slice(2, 8)}`;
    const answer = await world.push(project.projectId, defectId, input as Record<string, unknown>);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    expect((await world.get(project.projectId, defectId)).status).toBe(404);
  });

  it('refuses bad ids, other tenants and projects that are not connected, with clear errors', async () => {
    const badId = await world.push(project.projectId, 'DEF 1/../x');
    expect([400, 404]).toContain(badId.status);
    const tooLong = await world.push(project.projectId, 'D'.repeat(200));
    expect(tooLong.status).toBe(400);
    // Another tenant's defect is not visible from this project, and pushing its id here is this project's own defect.
    const other = await world.linkedProject('other');
    await world.pushed(other, 'DEF-TENANT');
    expect((await world.get(project.projectId, 'DEF-TENANT')).status).toBe(404);
    const notConnected = await world.push('never-connected', 'DEF-1');
    expect(notConnected.status).toBe(404);
    expect(notConnected.body.error?.code).toBe('NOT_CONNECTED');
    const unauthenticated = await fetch(
      `${world.stack.url('defect-sync')}/v1/projects/${project.projectId}/defects/DEF-P1`,
    );
    expect(unauthenticated.status).toBe(401);
  });

  it('answers AUTH_FAILED when GitLab refuses the token mid-push, and the connection says so', async () => {
    const revoked = await world.linkedProject('revoked');
    await revoked.gitlab.sim.revokeToken({ token: revoked.gitlab.token });
    const answer = await world.push(revoked.projectId, 'DEF-AUTH');
    expect(answer.status).toBe(422);
    expect(answer.body.error?.code).toBe('AUTH_FAILED');
    expect(await world.issuesWithMarker(revoked.gitlab, 'DEF-AUTH')).toHaveLength(0);
    expect((await world.get(revoked.projectId, 'DEF-AUTH')).body).toMatchObject({
      syncStatus: 'failed',
      error: { code: 'AUTH_FAILED', retryAt: null },
    });
    await eventually(
      async () => expect((await world.connectionStatus(revoked.projectId)).body.status).toBe('auth_failed'),
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('serves the same operations over gRPC, with the same rules', async () => {
    const pushed = await world.grpc.call('PushDefect', {
      projectId: project.projectId,
      defectId: 'DEF-GRPC',
      title: 'Pushed over gRPC',
      priority: 'DEFECT_PRIORITY_CRITICAL',
      status: 'DEFECT_STATUS_OPEN',
      url: 'https://testkase.example.com/demo/defects/DEF-GRPC',
      context: { testCaseKey: 'TC-7' },
    });
    expect(pushed.error).toBeUndefined();
    expect(pushed.reply).toMatchObject({
      outcome: 'created',
      defect: { defectId: 'DEF-GRPC', syncStatus: 'DEFECT_SYNC_STATUS_SYNCED', status: 'DEFECT_STATUS_OPEN' },
    });
    const got = await world.grpc.call('GetDefect', { projectId: project.projectId, defectId: 'DEF-GRPC' });
    expect(got.reply).toMatchObject({
      defect: {
        issue: { iid: expect.any(Number) },
        priority: 'DEFECT_PRIORITY_CRITICAL',
        updatedAt: { seconds: expect.any(Number) },
      },
    });
    const updated = await world.grpc.call('UpdateDefect', {
      projectId: project.projectId,
      defectId: 'DEF-GRPC',
      priority: 'DEFECT_PRIORITY_BLOCKER',
    });
    expect(updated.reply).toMatchObject({ defect: { priority: 'DEFECT_PRIORITY_BLOCKER' } });
    const invalid = await world.grpc.call('PushDefect', {
      projectId: project.projectId,
      defectId: 'DEF-X',
      title: '',
      priority: 'DEFECT_PRIORITY_UNSPECIFIED', // not given: the priority is required
      status: 'DEFECT_STATUS_OPEN',
      url: 'x',
    });
    expect(invalid.code).toBe('VALIDATION_FAILED');
    const missing = await world.grpc.call('GetDefect', {
      projectId: project.projectId,
      defectId: 'DEF-NONE',
    });
    expect(missing.code).toBe('NOT_FOUND');
    const unauthenticated = await world.grpc.call(
      'GetDefect',
      { projectId: project.projectId, defectId: 'DEF-GRPC' },
      'wrong',
    );
    expect(unauthenticated.code).toBe('UNAUTHENTICATED');
  });
});
