import { randomUUID } from 'node:crypto';

import {
  gitlabEventSubject,
  type BackfillProgressReportedV1,
  type ConnectionAuthFailedV1,
  type ReconciliationReportedV1,
  type RequirementDeprecatedV1,
  type RequirementDetachedV1,
  type RequirementV1,
} from '@testkase/contracts';
import {
  CoreGrpcClient,
  createSimProject,
  eventually,
  freePort,
  NatsProbe,
  TestStack,
  type AppName,
  type SimProject,
} from '@testkase/testing';

import { expectedFields, type SimIssueState } from './expected-requirement';
import { metric } from './metrics';
import type { ProjectLink } from './project-link';
import { allRequirements, upsertedEvents } from './requirements-api';

export interface ScenarioOptions {
  label: string;
  apps: Array<Exclude<AppName, 'gitlab-sim'>>;
  link: (stack: TestStack) => Promise<ProjectLink>;
}

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}

/** The issue's Tests section, run against whichever stack `options` describes. */
export function requirementSyncScenarios(options: ScenarioOptions): void {
  let stack: TestStack;
  let link: ProjectLink;
  let probe: NatsProbe;
  let main: SimProject;
  let mainConnection: string;
  let grpc: CoreGrpcClient;
  const MAIN = 'tk-main';
  const SEEDED = 2_500;
  const DEFECTS = 25;

  const simIssues = async (project: SimProject): Promise<SimIssueState[]> =>
    (await project.sim.state({ project: project.id, limit: 100_000 })).issues as unknown as SimIssueState[];

  const requirementOf = async (projectId: string, iid: number): Promise<RequirementV1 | undefined> =>
    (await allRequirements(stack, projectId)).find((requirement) => requirement.external.iid === iid);

  const eventsOf = async <T>(stream: 'TESTKASE_EVENTS' | 'INTEGRATION', subject: string) =>
    probe.events<T>(stream, subject);

  /** Publishes a body as the gateway would, on a connection's issue subject. */
  const publishRaw = async (connectionId: string, body: string | Uint8Array, msgId = randomUUID()) => {
    await probe.nc
      .jetstream()
      .publish(
        probe.subject(gitlabEventSubject(connectionId, 'issue')),
        typeof body === 'string' ? Buffer.from(body) : body,
        {
          msgID: msgId,
        },
      );
  };

  const deadLetters = async () =>
    (await probe.read('DEAD_LETTERS', 'deadletter.requirement-sync-issues')).map((message) => ({
      error: message.headers['x-dead-letter-error'] ?? '',
      code: message.headers['x-dead-letter-code'] ?? '',
    }));

  beforeAll(async () => {
    const grpcPort = await freePort();
    stack = await TestStack.start({
      apps: options.apps,
      label: options.label,
      env: {
        'requirement-sync': {
          RECONCILE_INTERVAL: '3s',
          RECONCILE_SAFETY_MARGIN: '1m',
          SYNC_SCHEDULER_TICK: '200ms',
          BACKFILL_PROGRESS_INTERVAL: '200ms',
          CREDENTIALS_CACHE_TTL: '2s',
          // Long enough that a loaded CI machine's consumer lag (push events behind issue events) does
          // not turn a pushed defect into a copy; short enough for the copy test to wait it out.
          DEFECT_MARKER_GRACE: '8s',
          DB_POOL_SIZE: '8',
          GRPC_PORT: String(grpcPort),
        },
      },
    });
    link = await options.link(stack);
    grpc = new CoreGrpcClient('requirements', `127.0.0.1:${grpcPort}`, stack.coreToken);
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    main = await createSimProject(stack.url('gitlab-sim'), {
      issues: {
        count: SEEDED,
        closedPercent: 20,
        confidentialPercent: 10,
        priorityLabelsPercent: 40,
        labels: ['area::checkout'],
        descriptionTemplate: 'As a **buyer** I want feature {{n}} (issue #{{iid}}).',
      },
    });
  }, 120_000);

  afterAll(async () => {
    grpc?.close();
    await probe?.close();
    await link?.close();
    await stack?.stop();
  });

  it('imports every issue of a connected project as the mapping says, defects excepted', async () => {
    mainConnection = await link.connect(MAIN, main);
    // Pushed while the backfill runs: defect-sync's issues are never requirements.
    for (let n = 1; n <= DEFECTS; n += 1) {
      await link.pushDefect(MAIN, {
        defectId: `DEF-${n}`,
        title: `Defect ${n} pushed from TestKase`,
        description: `Steps to reproduce ${n}`,
      });
    }
    await eventually(async () => expect((await allRequirements(stack, MAIN)).length).toBe(SEEDED), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    const requirements = await allRequirements(stack, MAIN);
    const byIid = new Map(requirements.map((requirement) => [requirement.external.iid, requirement]));
    const issues = (await simIssues(main)).filter((issue) => !issue.title.startsWith('Defect '));
    expect(issues).toHaveLength(SEEDED);
    expect(issues.some((issue) => issue.state === 'closed')).toBe(true);
    expect(issues.some((issue) => issue.confidential)).toBe(true);
    expect(issues.some((issue) => issue.labels.some((label) => label.startsWith('priority::')))).toBe(true);
    for (const issue of issues) {
      const requirement = byIid.get(issue.iid);
      expect(requirement).toMatchObject({
        projectId: MAIN,
        connectionId: mainConnection,
        syncState: 'synced',
        version: 1,
        external: expect.objectContaining({ gitlabProjectId: main.id, iid: issue.iid }),
      });
      const { webUrl, ...fields } = expectedFields(issue, main.webUrl);
      expect({ ...requirement, webUrl: requirement?.external.webUrl }).toMatchObject({ ...fields, webUrl });
      expect(requirement?.descriptionHtml).toBe(
        `<p>As a <strong>buyer</strong> I want feature ${issue.iid} (issue #${issue.iid}).</p>\n`,
      );
    }
    expect(requirements.filter((requirement) => requirement.title.startsWith('Defect '))).toEqual([]);

    await eventually(async () => {
      const events = await upsertedEvents(probe, MAIN);
      expect(events).toHaveLength(SEEDED);
      expect(new Set(events.map((event) => event.data.requirement.id)).size).toBe(SEEDED);
      expect(events.every((event) => event.data.created)).toBe(true);
    });
    await eventually(async () => {
      const progress = (
        await eventsOf<BackfillProgressReportedV1>('INTEGRATION', 'integration.requirement.backfill_progress')
      )
        .map((event) => event.data)
        .filter((data) => data.connectionId === mainConnection);
      const last = progress.at(-1);
      expect(last).toMatchObject({ state: 'completed' });
      // Every issue GitLab listed, defects pushed meanwhile included (as far as the backfill saw them).
      expect(last?.imported).toBe(last?.expected);
      expect(last?.imported).toBeGreaterThanOrEqual(SEEDED);
      expect(last?.imported).toBeLessThanOrEqual(SEEDED + DEFECTS);
    });
  });

  it('shows an edit, a relabel, a close and a reopen through the API and as events', async () => {
    const iid = 7;
    const before = (await upsertedEvents(probe, MAIN)).length;
    const steps: Array<{ act: () => Promise<unknown>; expect: Partial<RequirementV1>; field: string }> = [
      {
        act: () =>
          main.sim.updateIssue(main.id, iid, { as: main.developer, title: 'Checkout survives a reload' }),
        expect: { title: 'Checkout survives a reload' },
        field: 'title',
      },
      {
        act: () =>
          main.sim.relabelIssue(main.id, iid, main.developer, ['area::checkout', 'priority::critical']),
        expect: { labels: ['area::checkout', 'priority::critical'], priority: 'P0' },
        field: 'labels',
      },
      {
        act: () => main.sim.closeIssue(main.id, iid, main.developer),
        expect: { status: 'Deprecated' },
        field: 'status',
      },
      {
        act: () => main.sim.reopenIssue(main.id, iid, main.developer),
        expect: { status: 'Active' },
        field: 'status',
      },
    ];
    let count = before;
    for (const step of steps) {
      await step.act();
      await eventually(async () => expect(await requirementOf(MAIN, iid)).toMatchObject(step.expect));
      count += 1;
      await eventually(async () => {
        const events = await upsertedEvents(probe, MAIN);
        expect(events.length).toBeGreaterThanOrEqual(count);
        expect(events.at(-1)?.data).toMatchObject({
          created: false,
          requirement: expect.objectContaining(step.expect),
        });
        expect(events.at(-1)?.data.changedFields).toContain(step.field);
      });
    }
    const deprecated = await eventsOf<RequirementDeprecatedV1>(
      'TESTKASE_EVENTS',
      'testkase.requirement.deprecated',
    );
    expect(deprecated.map((event) => event.data)).toContainEqual(
      expect.objectContaining({
        reason: 'closed',
        requirement: expect.objectContaining({ external: expect.objectContaining({ iid }) }),
      }),
    );
  });

  it('changes nothing for replayed and out-of-order deliveries', async () => {
    const iid = 8;
    await main.sim.updateIssue(main.id, iid, { as: main.developer, title: 'First title' });
    await eventually(async () => expect((await requirementOf(MAIN, iid))?.title).toBe('First title'));
    // GitLab's clock moves on, so the second change is in a later second than the first.
    await main.sim.advanceClock(2_000);
    await main.sim.updateIssue(main.id, iid, { as: main.developer, title: 'Second title' });
    await eventually(async () => expect((await requirementOf(MAIN, iid))?.title).toBe('Second title'));
    const settled = await requirementOf(MAIN, iid);
    const eventsBefore = (await upsertedEvents(probe, MAIN)).length;
    const deliveries = (await main.sim.deliveries({ project: main.id })).filter(
      (delivery) => (delivery.payload['object_attributes'] as { iid?: number } | undefined)?.iid === iid,
    );
    const first = deliveries.find((delivery) => JSON.stringify(delivery.payload).includes('First title'));
    expect(first).toBeDefined();
    const staleBefore = await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'stale' });
    // A replay: GitLab resends the first delivery with the same Idempotency-Key (JetStream's
    // dedupe window or the inbox drops it).
    const resent = await main.sim.resendDelivery(defined(first, 'the first delivery').id);
    expect(resent).toMatchObject({ outcome: 'success' });
    // Out of order: the first change arrives again, late, as a new delivery.
    await publishRaw(mainConnection, JSON.stringify(defined(first, 'the first delivery').payload));
    await eventually(async () =>
      expect(
        await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'stale' }),
      ).toBeGreaterThan(staleBefore),
    );
    // The reconciliation sweep (every 3 s here) may meanwhile read the issue over REST, whose
    // timestamps carry the milliseconds the hook's lack: the same instants, more precisely.
    const toTheSecond = (requirement: RequirementV1 | undefined) =>
      requirement && {
        ...requirement,
        gitlabCreatedAt: requirement.gitlabCreatedAt?.slice(0, 19),
        gitlabUpdatedAt: requirement.gitlabUpdatedAt.slice(0, 19),
      };
    expect(toTheSecond(await requirementOf(MAIN, iid))).toEqual(toTheSecond(settled));
    expect((await upsertedEvents(probe, MAIN)).length).toBe(eventsBefore);
  });

  it('dead-letters bad input with its reason, changes nothing, and goes on with the next message', async () => {
    const before = await allRequirements(stack, MAIN);
    const good = defined(
      (await main.sim.deliveries({ project: main.id })).find(
        (delivery) => delivery.payload['object_kind'] === 'issue',
      ),
      'an issue delivery',
    ).payload as Record<string, unknown> & { object_attributes: Record<string, unknown> };
    const variant = (edit: (payload: typeof good) => void): string => {
      const copy = structuredClone(good);
      edit(copy);
      return JSON.stringify(copy);
    };
    const bad: Array<[string, string]> = [
      ['{"object_kind": "issue", "object_attributes": ', 'not JSON'],
      [JSON.stringify({ object_kind: 'issue', project: { id: main.id } }), 'object_attributes is missing'],
      [variant((p) => (p.object_attributes['iid'] = -4)), 'iid must be a positive integer'],
      [variant((p) => (p.object_attributes['iid'] = 'seven')), 'iid must be a positive integer'],
      [variant((p) => (p.object_attributes['title'] = 'x'.repeat(900_000))), 'title is longer than'],
      [variant((p) => (p.object_attributes['labels'] = 'priority::critical')), 'labels must be a list'],
      [variant((p) => (p.object_attributes['confidential'] = 'no')), 'confidential must be a boolean'],
    ];
    for (const [body] of bad) await publishRaw(mainConnection, body);
    await main.sim.updateIssue(main.id, 9, { as: main.developer, title: 'After the poison' });
    await eventually(async () => expect((await requirementOf(MAIN, 9))?.title).toBe('After the poison'));
    await eventually(async () => {
      const letters = await deadLetters();
      for (const [, reason] of bad)
        expect(letters.some((letter) => letter.error.includes(reason))).toBe(true);
    });
    const after = await allRequirements(stack, MAIN);
    // A sweep may meanwhile have refined a webhook's second-precise timestamps; nothing else may differ.
    const unchanged = (list: RequirementV1[]) =>
      list
        .filter((requirement) => requirement.external.iid !== 9)
        .map(({ gitlabUpdatedAt: _updated, gitlabCreatedAt: _created, ...requirement }) => requirement);
    expect(unchanged(after)).toEqual(unchanged(before));
  });

  it("never lets another connection's events touch this project's requirements", async () => {
    const other = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 3 } });
    const otherConnection = await link.connect('tk-other', other);
    await eventually(async () => expect(await allRequirements(stack, 'tk-other')).toHaveLength(3));
    const before = await requirementOf(MAIN, 10);
    const hostile = defined(
      (await main.sim.deliveries({ project: main.id })).find(
        (delivery) => delivery.payload['object_kind'] === 'issue',
      ),
      'an issue delivery',
    ).payload as Record<string, unknown> & { object_attributes: Record<string, unknown> };
    hostile.object_attributes['iid'] = 10;
    hostile.object_attributes['title'] = 'Hijacked';
    hostile.object_attributes['updated_at'] = new Date(Date.now() + 3_600_000).toISOString();
    // The other connection's subject carrying this project's GitLab project id.
    await publishRaw(otherConnection, JSON.stringify(hostile));
    await eventually(async () =>
      expect(
        (await deadLetters()).some((letter) => letter.error.includes(`event of GitLab project ${main.id}`)),
      ).toBe(true),
    );
    expect(await requirementOf(MAIN, 10)).toEqual(before);
    expect(await allRequirements(stack, 'tk-other')).toHaveLength(3);
    // And no project can read another project's requirement.
    const response = await stack.core(
      'requirement-sync',
      'GET',
      `/v1/projects/tk-other/requirements/${defined(before, 'requirement 10').id}`,
    );
    expect(response).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('counts work items of other types and does not import them; reads 2018-generation payloads', async () => {
    const skipped = await metric(stack, 'requirement_sync_work_items_skipped_total', { type: 'Task' });
    const task = await main.sim.createWorkItem(main.id, {
      as: main.developer,
      title: 'A task, not a requirement',
      type: 'Task',
    });
    await eventually(async () =>
      expect(await metric(stack, 'requirement_sync_work_items_skipped_total', { type: 'Task' })).toBe(
        skipped + 1,
      ),
    );
    expect(await requirementOf(MAIN, task.iid)).toBeUndefined();

    await main.sim.updateProject(main.id, { legacyPayloads: true });
    try {
      const created = await main.sim.createIssue(main.id, {
        as: main.developer,
        title: 'Filed on an old GitLab',
        labels: ['priority::low'],
      });
      await eventually(async () =>
        expect(await requirementOf(MAIN, created.iid)).toMatchObject({
          title: 'Filed on an old GitLab',
          priority: 'P3',
          status: 'Active',
        }),
      );
      await main.sim.closeIssue(main.id, created.iid, main.developer);
      await eventually(async () =>
        expect((await requirementOf(MAIN, created.iid))?.status).toBe('Deprecated'),
      );
    } finally {
      await main.sim.updateProject(main.id, { legacyPayloads: null });
    }
  });

  it('never imports an issue defect-sync created, even once its marker is edited away', async () => {
    // Its events are skipped as a defect's, or held while the push is still in flight (depending on
    // which of the two streams requirement-sync hears first): never written.
    const skipped = async () =>
      (await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'defect_skipped' })) +
      (await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'defect_held' }));
    const before = await skipped();
    const iid = await link.pushDefect(MAIN, {
      defectId: 'DEF-900',
      title: 'Pushed defect',
      description: 'Crash',
    });
    // Once requirement-sync has heard of the issue (held or skipped; see docs/ARCHITECTURE.md for the
    // corner of an edit heard before the issue's creation while its push is in flight).
    await eventually(async () => expect(await skipped()).toBeGreaterThan(before));
    const heard = await skipped();
    await main.sim.updateIssue(main.id, iid, { as: main.developer, description: 'Crash (marker removed)' });
    await main.sim.updateIssue(main.id, iid, { as: main.developer, title: 'Pushed defect, renamed' });
    await eventually(async () => expect(await skipped()).toBeGreaterThan(heard));
    // Long past the grace period, and after a full sweep that lists the issue without its marker.
    const sweepsBefore = (
      await eventsOf<ReconciliationReportedV1>('INTEGRATION', 'integration.requirement.reconciled')
    ).length;
    await link.resync(MAIN);
    await eventually(
      async () =>
        expect(
          (await eventsOf<ReconciliationReportedV1>('INTEGRATION', 'integration.requirement.reconciled'))
            .length,
        ).toBeGreaterThan(sweepsBefore),
      { timeoutMs: 30_000 },
    );
    expect(await requirementOf(MAIN, iid)).toBeUndefined();
  });

  it('imports a copy of a pushed issue (a /clone, a pasted marker) once the grace period is over; never the original', async () => {
    const held = () => metric(stack, 'requirement_sync_issue_events_total', { outcome: 'defect_held' });
    const original = await link.pushDefect(MAIN, {
      defectId: 'DEF-901',
      title: 'Checkout crashes',
      description: 'Steps',
    });
    const heldBefore = await held();
    await main.sim.addNote(main.id, original, { as: main.developer, body: '/clone' });
    const copy = await eventually(async () => {
      const issues = await simIssues(main);
      const clone = issues.find((issue) => issue.title === 'Checkout crashes' && issue.iid !== original);
      if (!clone) throw new Error('the clone is not there yet');
      return clone;
    });
    const pasted = await main.sim.createIssue(main.id, {
      as: main.developer,
      title: 'Pasted from another defect',
      description: 'Copied text\n\n<!-- testkase:defect:DEF-901 -->',
    });
    // Held while young (the grace period of this stack is 8 s), then imported like any other issue.
    await eventually(async () => expect(await held()).toBeGreaterThan(heldBefore));
    await eventually(
      async () => {
        expect(await requirementOf(MAIN, copy.iid)).toMatchObject({
          title: 'Checkout crashes',
          syncState: 'synced',
        });
        expect(await requirementOf(MAIN, pasted.iid)).toMatchObject({ title: 'Pasted from another defect' });
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(await requirementOf(MAIN, original)).toBeUndefined();
  });

  it('repairs dropped deliveries at the next reconciliation, and reports it', async () => {
    const since = Date.now();
    const targets = Array.from({ length: 120 }, (_, index) => 100 + index);
    await main.sim.dropDeliveries({ percent: 5 });
    try {
      for (const iid of targets)
        await main.sim.updateIssue(main.id, iid, { as: main.developer, title: `Reconciled ${iid}` });
    } finally {
      await main.sim.dropDeliveries({ percent: 0 });
    }
    const dropped = (await main.sim.deliveries({ project: main.id, since, outcome: 'dropped' })).length;
    expect(dropped).toBeGreaterThan(0);
    await eventually(
      async () => {
        const requirements = new Map((await allRequirements(stack, MAIN)).map((r) => [r.external.iid, r]));
        for (const iid of targets) expect(requirements.get(iid)?.title).toBe(`Reconciled ${iid}`);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await eventually(async () => {
      const reports = (
        await eventsOf<ReconciliationReportedV1>('INTEGRATION', 'integration.requirement.reconciled')
      )
        .map((event) => event.data)
        .filter((report) => report.connectionId === mainConnection && Date.parse(report.finishedAt) >= since);
      expect(reports.reduce((sum, report) => sum + report.updated, 0)).toBeGreaterThanOrEqual(dropped);
    });
  });

  it('deprecates the requirement of a deleted issue at a full sweep (resync)', async () => {
    const iid = 11;
    await main.sim.deleteIssue(main.id, iid);
    await link.resync(MAIN);
    await eventually(async () => expect((await requirementOf(MAIN, iid))?.status).toBe('Deprecated'), {
      timeoutMs: 30_000,
    });
    const deprecated = await eventsOf<RequirementDeprecatedV1>(
      'TESTKASE_EVENTS',
      'testkase.requirement.deprecated',
    );
    expect(deprecated.map((event) => event.data)).toContainEqual(
      expect.objectContaining({
        reason: 'deleted_or_moved',
        requirement: expect.objectContaining({ projectId: MAIN, external: expect.objectContaining({ iid }) }),
      }),
    );
    await eventually(async () => {
      const reports = (
        await eventsOf<ReconciliationReportedV1>('INTEGRATION', 'integration.requirement.reconciled')
      ).map((event) => event.data);
      expect(reports).toContainEqual(
        expect.objectContaining({ connectionId: mainConnection, kind: 'full', deprecated: 1 }),
      );
    });
  });

  it('resumes a backfill after a SIGKILL without duplicates', async () => {
    const big = await createSimProject(stack.url('gitlab-sim'), {
      issues: { count: 15_000, closedPercent: 10 },
    });
    const connectionId = await link.connect('tk-big', big);
    await eventually(
      async () => {
        const progress = (
          await eventsOf<BackfillProgressReportedV1>(
            'INTEGRATION',
            'integration.requirement.backfill_progress',
          )
        )
          .map((event) => event.data)
          .filter((data) => data.connectionId === connectionId);
        expect(progress.some((data) => data.state === 'running' && data.imported >= 1_000)).toBe(true);
      },
      { intervalMs: 20 },
    );
    await stack.app('requirement-sync').kill();
    const imported = (
      await eventsOf<BackfillProgressReportedV1>('INTEGRATION', 'integration.requirement.backfill_progress')
    )
      .map((event) => event.data)
      .filter((data) => data.connectionId === connectionId);
    expect(imported.some((data) => data.state === 'completed')).toBe(false);
    await stack.startApp('requirement-sync');
    await eventually(async () => expect((await allRequirements(stack, 'tk-big')).length).toBe(15_000), {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
    await eventually(async () => {
      const events = await upsertedEvents(probe, 'tk-big');
      expect(events).toHaveLength(15_000);
      expect(new Set(events.map((event) => event.data.requirement.id)).size).toBe(15_000);
    });
    const issues = new Map((await simIssues(big)).map((issue) => [issue.iid, issue]));
    for (const requirement of await allRequirements(stack, 'tk-big')) {
      const { webUrl: _url, ...fields } = expectedFields(
        defined(issues.get(requirement.external.iid), 'its issue'),
        big.webUrl,
      );
      expect(requirement).toMatchObject(fields);
    }
  });

  it('ends equal to GitLab after a SIGKILL during a burst of events, without duplicate events', async () => {
    const targets = Array.from({ length: 40 }, (_, index) => 300 + index);
    const writes = (round: number) =>
      Promise.all(
        targets.map((iid) =>
          main.sim.updateIssue(main.id, iid, { as: main.developer, title: `Burst ${round} of ${iid}` }),
        ),
      );
    await writes(1);
    await stack.app('requirement-sync').kill();
    await writes(2);
    await main.sim.advanceClock(1_500);
    await writes(3);
    await stack.startApp('requirement-sync');
    await eventually(
      async () => {
        const requirements = new Map((await allRequirements(stack, MAIN)).map((r) => [r.external.iid, r]));
        for (const iid of targets) expect(requirements.get(iid)?.title).toBe(`Burst 3 of ${iid}`);
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    const events = (await upsertedEvents(probe, MAIN)).filter((event) =>
      targets.includes(event.data.requirement.external.iid),
    );
    const versions = events.map((event) => `${event.data.requirement.id}@${event.data.requirement.version}`);
    expect(new Set(versions).size).toBe(versions.length);
    expect(events.every((event) => event.data.changedFields.length > 0)).toBe(true);
  });

  it('lifts read-only on disconnect, and re-attaches without duplicates on reconnect', async () => {
    const project = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 20 } });
    const first = await link.connect('tk-cycle', project);
    await eventually(async () => expect(await allRequirements(stack, 'tk-cycle')).toHaveLength(20));
    const target = defined(
      (await allRequirements(stack, 'tk-cycle')).find((r) => r.external.iid === 5),
      'requirement 5',
    );
    const route = `/v1/projects/tk-cycle/requirements/${target.id}`;
    expect(
      await stack.core('requirement-sync', 'PATCH', route, { title: 'Edited in TestKase' }),
    ).toMatchObject({
      status: 409,
      body: { error: { code: 'SYNCED_READ_ONLY' } },
    });

    await link.disconnect('tk-cycle');
    await eventually(async () =>
      expect((await allRequirements(stack, 'tk-cycle')).every((r) => r.syncState === 'detached')).toBe(true),
    );
    const detached = (
      await eventsOf<RequirementDetachedV1>('TESTKASE_EVENTS', 'testkase.requirement.detached')
    ).filter((event) => event.data.connectionId === first);
    expect(detached).toHaveLength(20);
    const edited = await stack.core<RequirementV1>('requirement-sync', 'PATCH', route, {
      title: 'Edited in TestKase',
      priority: 'P0',
    });
    expect(edited).toMatchObject({
      status: 200,
      body: { title: 'Edited in TestKase', priority: 'P0', version: target.version + 2 },
    });
    expect(await stack.core('requirement-sync', 'PATCH', route, { priority: 'P9' })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    await eventually(async () => {
      const events = await upsertedEvents(probe, 'tk-cycle');
      expect(events.at(-1)?.data).toMatchObject({
        changedFields: ['title', 'priority'],
        requirement: expect.objectContaining({ syncState: 'detached' }),
      });
    });
    // Changed in GitLab while disconnected: the reconnect brings it in.
    await project.sim.updateIssue(project.id, 6, { as: project.developer, title: 'Changed while away' });

    // connection-service may give the reconnected project a new connection id or keep the old one.
    const second = await link.connect('tk-cycle', project);
    await eventually(
      async () => {
        const requirements = await allRequirements(stack, 'tk-cycle');
        expect(requirements).toHaveLength(20);
        expect(requirements.every((r) => r.syncState === 'synced' && r.connectionId === second)).toBe(true);
        expect(requirements.find((r) => r.external.iid === 5)).toMatchObject({
          id: target.id,
          title: target.title,
          priority: target.priority,
        });
        expect(requirements.find((r) => r.external.iid === 6)?.title).toBe('Changed while away');
      },
      { timeoutMs: 30_000 },
    );

    // Connecting the project to another GitLab project leaves these detached.
    const elsewhere = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 2 } });
    await link.disconnect('tk-cycle');
    await link.connect('tk-cycle', elsewhere);
    await eventually(async () => {
      const requirements = await allRequirements(stack, 'tk-cycle');
      expect(requirements).toHaveLength(22);
      expect(
        requirements.filter((r) => r.syncState === 'detached').map((r) => r.external.gitlabProjectId),
      ).toEqual(Array(20).fill(project.id));
      expect(
        requirements.filter((r) => r.syncState === 'synced').map((r) => r.external.gitlabProjectId),
      ).toEqual([elsewhere.id, elsewhere.id]);
    });
  });

  it('reports a token GitLab refuses as auth_failed', async () => {
    const project = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 2 } });
    const connectionId = await link.connect('tk-revoked', project);
    await eventually(async () => expect(await allRequirements(stack, 'tk-revoked')).toHaveLength(2));
    await project.sim.revokeToken({ token: project.token });
    await link.resync('tk-revoked');
    await eventually(
      async () => {
        const failures = await eventsOf<ConnectionAuthFailedV1>(
          'INTEGRATION',
          'integration.connection.auth_failed',
        );
        expect(failures.map((event) => event.data)).toContainEqual(
          expect.objectContaining({ connectionId, service: 'requirement-sync' }),
        );
      },
      { timeoutMs: 30_000 },
    );
    const logs = stack.app('requirement-sync').logs();
    expect(logs).not.toContain(project.token);
  });

  it('lists with filters, text search and a stable cursor order', async () => {
    const all = await allRequirements(stack, MAIN);
    const pageOf = (query: string) =>
      stack.core<{ items: RequirementV1[]; nextCursor: string | null }>(
        'requirement-sync',
        'GET',
        `/v1/projects/${MAIN}/requirements?${query}`,
      );
    const active = await allRequirements(stack, MAIN, { status: 'Active', priority: 'P0' });
    expect(active.length).toBeGreaterThan(0);
    expect(active).toEqual(all.filter((r) => r.status === 'Active' && r.priority === 'P0'));
    const labelled = await allRequirements(stack, MAIN, { label: 'priority::low' });
    expect(labelled).toEqual(all.filter((r) => r.labels.includes('priority::low')));
    const found = await allRequirements(stack, MAIN, { q: 'FEATURE 1234 (' });
    expect(found.map((r) => r.external.iid)).toEqual([1234]);
    const iids = all.map((r) => r.external.iid);
    expect(iids).toEqual([...iids].sort((a, b) => a - b));
    expect(await pageOf('limit=201')).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    expect(await pageOf('cursor=bogus')).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED' } },
    });
    const unauthenticated = await fetch(`${stack.url('requirement-sync')}/v1/projects/${MAIN}/requirements`);
    expect(unauthenticated.status).toBe(401);
  });

  it('serves the same operations over gRPC, with the same rules', async () => {
    const page = await grpc.call('ListRequirements', {
      projectId: 'tk-cycle',
      status: 'REQUIREMENT_STATUS_ACTIVE',
      limit: 5,
    });
    expect(page.error).toBeUndefined();
    const items = (page.reply?.['requirements'] ?? []) as RequirementV1[];
    expect(items.length).toBeGreaterThan(0);
    const overHttp = (await allRequirements(stack, 'tk-cycle', { status: 'Active' })).slice(0, 5);
    expect(items.map((r) => r.id)).toEqual(overHttp.map((r) => r.id));
    const synced = defined(
      (await allRequirements(stack, 'tk-cycle', { syncState: 'synced' }))[0],
      'a synced requirement',
    );
    expect(
      (await grpc.call('GetRequirement', { projectId: 'tk-cycle', requirementId: synced.id })).reply,
    ).toMatchObject({
      requirement: {
        id: synced.id,
        title: synced.title,
        version: synced.version,
        syncState: 'synced',
        status: 'REQUIREMENT_STATUS_ACTIVE',
        external: { iid: synced.external.iid, gitlabProjectId: synced.external.gitlabProjectId },
        updatedAt: { seconds: Math.floor(Date.parse(synced.updatedAt) / 1000) },
      },
    });
    expect(await grpc.call('GetRequirement', { projectId: MAIN, requirementId: synced.id })).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      await grpc.call('UpdateRequirement', { projectId: 'tk-cycle', requirementId: synced.id, title: 'No' }),
    ).toMatchObject({
      code: 'SYNCED_READ_ONLY',
    });
    const detached = defined(
      (await allRequirements(stack, 'tk-cycle', { syncState: 'detached' }))[0],
      'a detached requirement',
    );
    const updated = await grpc.call('UpdateRequirement', {
      projectId: 'tk-cycle',
      requirementId: detached.id,
      status: 'REQUIREMENT_STATUS_DEPRECATED',
    });
    expect(updated.reply).toMatchObject({
      requirement: {
        id: detached.id,
        status: 'REQUIREMENT_STATUS_DEPRECATED',
        version: detached.version + 1,
      },
    });
    expect(await grpc.call('ListRequirements', { projectId: MAIN, limit: 500 })).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await grpc.call('ListRequirements', { projectId: MAIN }, 'wrong-token')).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
}
