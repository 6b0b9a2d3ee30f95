import 'reflect-metadata';

import {
  gitlabEventSubject,
  type CloudEvent,
  type RequirementDeprecatedV1,
  type RequirementV1,
} from '@testkase/contracts';
import {
  createSimProject,
  eventually,
  NatsProbe,
  SIM_ACCESS,
  TestStack,
  type SimDelivery,
  type SimProject,
} from '@testkase/testing';

import { metric } from './support/metrics';
import { RealProjectLink } from './support/project-link';
import { allRequirements } from './support/requirements-api';

jest.setTimeout(120_000);

/**
 * GitLab's corners, end to end (issue 10, "GitLab's corners"): deleted, moved and retyped issues,
 * timestamps from the future, and two states within one second. gitlab-sim, the real gateway,
 * connection-service and requirement-sync, real Postgres and NATS.
 */
describe('requirement-sync and GitLab corners', () => {
  let stack: TestStack;
  let link: RealProjectLink;
  let probe: NatsProbe;
  let main: SimProject;
  let archive: SimProject;
  let mainConnection: string;
  const MAIN = 'tk-corners';
  const ARCHIVE = 'tk-corners-archive';

  const requirementOf = async (projectId: string, iid: number): Promise<RequirementV1 | undefined> =>
    (await allRequirements(stack, projectId)).find((requirement) => requirement.external.iid === iid);

  const deprecatedEvents = async (iid: number): Promise<RequirementDeprecatedV1[]> =>
    (await probe.events<RequirementDeprecatedV1>('TESTKASE_EVENTS', 'testkase.requirement.deprecated'))
      .map((event: CloudEvent<RequirementDeprecatedV1>) => event.data)
      .filter((data) => data.requirement.projectId === MAIN && data.requirement.external.iid === iid);

  /** Titles of the `upserted` events of one issue of MAIN published since `since`, in order. */
  const upsertedTitles = async (iid: number, since: number): Promise<string[]> =>
    (await probe.events<{ requirement: RequirementV1 }>('TESTKASE_EVENTS', 'testkase.requirement.upserted'))
      .filter(
        (event) =>
          event.data.requirement.projectId === MAIN &&
          event.data.requirement.external.iid === iid &&
          Date.parse(event.time) >= since - 1_000,
      )
      .map((event) => event.data.requirement.title);

  const refetches = (reason: string) => metric(stack, 'requirement_sync_refetches_total', { reason });

  /** Publishes a body as the gateway does (a delivery it took, or a crafted manual-mode one). */
  const publish = async (
    payload: Record<string, unknown>,
    msgId: string,
    kind: 'issue' | 'work_item' = 'issue',
  ) => {
    await probe.nc
      .jetstream()
      .publish(
        probe.subject(gitlabEventSubject(mainConnection, kind)),
        Buffer.from(JSON.stringify(payload)),
        {
          msgID: msgId,
        },
      );
  };

  const deliveriesOf = async (iid: number, since: number): Promise<SimDelivery[]> =>
    (await main.sim.deliveries({ project: main.id, since })).filter(
      (delivery) => (delivery.payload['object_attributes'] as { iid?: number } | undefined)?.iid === iid,
    );

  /** Waits until the simulator's clock is early in a second, so that a few quick writes share it. */
  const startOfASecond = async () => {
    const { offsetMs } = await main.sim.clock();
    await eventually(
      () => {
        if ((Date.now() + offsetMs) % 1000 > 150) throw new Error('not yet');
      },
      { intervalMs: 5, timeoutMs: 2_000 },
    );
  };

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'rs_corners',
      env: {
        'requirement-sync': {
          RECONCILE_INTERVAL: '2s',
          RECONCILE_SAFETY_MARGIN: '1m',
          DELETION_CHECK_INTERVAL: '2s',
          SYNC_SCHEDULER_TICK: '200ms',
          CREDENTIALS_CACHE_TTL: '2s',
        },
      },
    });
    link = new RealProjectLink(stack);
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    main = await createSimProject(stack.url('gitlab-sim'), {
      issues: { count: 30, descriptionTemplate: 'Requirement {{iid}}' },
    });
    archive = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 2 } });
    // The Developer who moves issues may also write in the target project.
    await main.sim.addMember({
      project: archive.id,
      username: main.developer,
      accessLevel: SIM_ACCESS.developer,
    });
    mainConnection = await link.connect(MAIN, main);
    await link.connect(ARCHIVE, archive);
    await eventually(
      async () => {
        expect(await allRequirements(stack, MAIN)).toHaveLength(30);
        expect(await allRequirements(stack, ARCHIVE)).toHaveLength(2);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, 120_000);

  afterAll(async () => {
    await probe?.close();
    await link?.close();
    await stack?.stop();
  });

  it('deprecates the requirement of a deleted issue within the deletion check interval, counting first', async () => {
    const since = Date.now();
    await main.sim.deleteIssue(main.id, 3);

    await eventually(async () => expect((await requirementOf(MAIN, 3))?.status).toBe('Deprecated'), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(await requirementOf(MAIN, 3)).toMatchObject({ deprecationReason: 'deleted' });
    await eventually(async () =>
      expect(await deprecatedEvents(3)).toContainEqual(
        expect.objectContaining({
          reason: 'deleted_or_moved',
          requirement: expect.objectContaining({ deprecationReason: 'deleted' }),
        }),
      ),
    );
    // The cheap way: counts per 100 iids, and a listing only of the batch that came up short.
    const requests = await main.sim.apiRequests({ since, method: 'GET', project: main.id });
    expect(requests.some((request) => request.route === '/api/v4/projects/:id/issues_statistics')).toBe(true);
    expect(
      await metric(stack, 'requirement_sync_deletion_checks_total', { result: 'completed' }),
    ).toBeGreaterThan(0);
    expect((await requirementOf(MAIN, 2))?.status).toBe('Active');
  });

  it('deprecates a moved issue as moved, with the link to its new issue, which its own project imports', async () => {
    const moved = await main.sim.moveIssue(main.id, 4, { as: main.developer, toProject: archive.id });

    await eventually(async () =>
      expect(await requirementOf(MAIN, 4)).toMatchObject({
        status: 'Deprecated',
        deprecationReason: 'moved',
        movedTo: { issueId: moved.id, iid: moved.iid, webUrl: `${archive.webUrl}/-/issues/${moved.iid}` },
      }),
    );
    await eventually(async () =>
      expect(await deprecatedEvents(4)).toContainEqual(
        expect.objectContaining({
          reason: 'deleted_or_moved',
          requirement: expect.objectContaining({
            deprecationReason: 'moved',
            movedTo: expect.objectContaining({ iid: moved.iid }),
          }),
        }),
      ),
    );
    await eventually(async () =>
      expect(await requirementOf(ARCHIVE, moved.iid)).toMatchObject({ title: moved.title, status: 'Active' }),
    );
  });

  it('deprecates an issue turned into a Task or an Incident at once, from its webhook; back as an issue, it is Active', async () => {
    const retypedBefore = await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'retyped' });
    await main.sim.updateIssue(main.id, 5, { as: main.developer, type: 'Task' });
    await main.sim.updateIssue(main.id, 6, { as: main.developer, type: 'Incident' });

    await eventually(async () => {
      expect(await requirementOf(MAIN, 5)).toMatchObject({
        status: 'Deprecated',
        deprecationReason: 'retyped',
      });
      expect(await requirementOf(MAIN, 6)).toMatchObject({
        status: 'Deprecated',
        deprecationReason: 'retyped',
      });
    });
    expect(await metric(stack, 'requirement_sync_issue_events_total', { outcome: 'retyped' })).toBe(
      retypedBefore + 2,
    );
    expect(await deprecatedEvents(5)).toContainEqual(
      expect.objectContaining({ requirement: expect.objectContaining({ deprecationReason: 'retyped' }) }),
    );

    await main.sim.updateIssue(main.id, 5, { as: main.developer, type: 'Issue' });
    await eventually(async () => {
      const back = await requirementOf(MAIN, 5);
      expect(back?.status).toBe('Active');
      expect(back).not.toHaveProperty('deprecationReason');
    });
  });

  it('never lets a delivery stamped an hour ahead freeze a requirement', async () => {
    // A crafted manual-mode delivery: GitLab is asked, its state applies, the craft does not.
    const since = Date.now();
    await main.sim.updateIssue(main.id, 7, { as: main.developer, title: 'Seven, edited' });
    await eventually(async () => expect((await requirementOf(MAIN, 7))?.title).toBe('Seven, edited'));
    const [real] = await deliveriesOf(7, since);
    const crafted = structuredClone(real?.payload ?? {}) as Record<string, Record<string, unknown>>;
    const attributes = crafted['object_attributes'] ?? {};
    attributes['title'] = 'Crafted in the future';
    attributes['updated_at'] = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}/, '');
    const futureBefore = await refetches('future');
    await publish(crafted, `crafted-${since}`);
    await eventually(async () => expect(await refetches('future')).toBeGreaterThan(futureBefore));
    expect((await requirementOf(MAIN, 7))?.title).toBe('Seven, edited');
    await main.sim.updateIssue(main.id, 7, { as: main.developer, title: 'Seven, edited again' });
    await eventually(async () => expect((await requirementOf(MAIN, 7))?.title).toBe('Seven, edited again'));

    // GitLab's clock jumps an hour ahead, then back: the edit after the jump still applies.
    await main.sim.advanceClock(3_600_000);
    try {
      await main.sim.updateIssue(main.id, 8, { as: main.developer, title: 'Eight, an hour ahead' });
      await eventually(async () =>
        expect((await requirementOf(MAIN, 8))?.title).toBe('Eight, an hour ahead'),
      );
      expect(Date.parse((await requirementOf(MAIN, 8))?.gitlabUpdatedAt ?? '')).toBeGreaterThan(
        Date.now() + 1_800_000,
      );
      await main.sim.updateIssue(main.id, 9, { as: main.developer, title: 'Nine, an hour ahead' });
      await eventually(async () => expect((await requirementOf(MAIN, 9))?.title).toBe('Nine, an hour ahead'));
    } finally {
      await main.sim.resetClock();
    }
    await main.sim.updateIssue(main.id, 8, { as: main.developer, title: 'Eight, after the jump' });
    await eventually(async () => expect((await requirementOf(MAIN, 8))?.title).toBe('Eight, after the jump'));

    // A change whose webhook is lost: the next sweep repairs the requirement stamped in the future.
    const sweepBefore = await refetches('sweep_unordered');
    await main.sim.dropDeliveries({ next: 1 });
    await main.sim.updateIssue(main.id, 9, { as: main.developer, title: 'Nine, repaired by a sweep' });
    await eventually(
      async () => expect((await requirementOf(MAIN, 9))?.title).toBe('Nine, repaired by a sweep'),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(await refetches('sweep_unordered')).toBeGreaterThan(sweepBefore);
    expect(Date.parse((await requirementOf(MAIN, 9))?.gitlabUpdatedAt ?? '')).toBeLessThan(
      Date.now() + 60_000,
    );
  });

  it('two webhooks of one second, delivered in the wrong order: GitLab decides, the older never wins', async () => {
    await startOfASecond();
    const since = Date.now();
    await main.sim.dropDeliveries({ next: 2 });
    await main.sim.editIssues(main.id, {
      as: main.developer,
      edits: [
        { iid: 10, title: 'Ten, first of the second' },
        { iid: 10, title: 'Ten, second of the second' },
      ],
    });
    const [first, second] = await eventually(async () => {
      const dropped = (await deliveriesOf(10, since)).filter((delivery) => delivery.outcome === 'dropped');
      expect(dropped).toHaveLength(2);
      return dropped;
    });
    const sameSecondBefore = await refetches('same_second');
    await publish(second?.payload ?? {}, second?.idempotencyKey ?? 'second');
    await eventually(async () =>
      expect((await requirementOf(MAIN, 10))?.title).toBe('Ten, second of the second'),
    );
    await publish(first?.payload ?? {}, first?.idempotencyKey ?? 'first');
    await eventually(async () => expect(await refetches('same_second')).toBeGreaterThan(sameSecondBefore));
    expect((await requirementOf(MAIN, 10))?.title).toBe('Ten, second of the second');
  });

  it('a listing read before a webhook of the same second never overwrites it: the issue is read again', async () => {
    // A listing answered late (a slow GitLab), after a webhook of the same second was applied. An
    // attempt proves the rule when both edits share a second and no other listing came in between.
    let proven = false;
    for (let iid = 11; iid <= 18 && !proven; iid += 1) {
      await main.sim.clearFaults();
      await startOfASecond();
      await main.sim.dropDeliveries({ next: 1 });
      const listed = await main.sim.updateIssue(main.id, iid, { as: main.developer, title: `Listed ${iid}` });
      const since = Date.now();
      await main.sim.addFault({
        method: 'GET',
        path: '/api/v4/projects/*/issues',
        kind: 'latency',
        phase: 'after',
        latencyMs: 2_500,
        count: 1,
      });
      const unorderedBefore = await refetches('sweep_unordered');
      // A full sweep lists the project now (whichever sweep lists it first gets the slow answer).
      await link.resync(MAIN);
      const listRequest = () =>
        main.sim
          .apiRequests({ since, method: 'GET', project: main.id })
          .then((requests) => requests.find((request) => request.route === '/api/v4/projects/:id/issues'));
      await eventually(async () => expect(await listRequest()).toBeDefined(), {
        intervalMs: 10,
        timeoutMs: 10_000,
      });
      const hooked = await main.sim.updateIssue(main.id, iid, { as: main.developer, title: `Hooked ${iid}` });
      await eventually(async () => expect((await requirementOf(MAIN, iid))?.title).toBe(`Hooked ${iid}`));
      // Until the sweep that got the late answer has written it.
      const answered = await eventually(async () => {
        const request = await listRequest();
        expect(request?.status).toBe(200);
        return request?.at ?? 0;
      });
      await eventually(async () => {
        const reports = (
          await probe.events<{ connectionId: string; finishedAt: string }>(
            'INTEGRATION',
            'integration.requirement.reconciled',
          )
        ).filter((event) => event.data.connectionId === mainConnection);
        expect(reports.some((event) => Date.parse(event.data.finishedAt) >= answered + 2_000)).toBe(true);
      });
      const titles = await upsertedTitles(iid, since);
      // Never back to the older state once the webhook's state was there.
      const firstHooked = titles.indexOf(`Hooked ${iid}`);
      expect(firstHooked).toBeGreaterThanOrEqual(0);
      expect(titles.slice(firstHooked)).not.toContain(`Listed ${iid}`);
      expect((await requirementOf(MAIN, iid))?.title).toBe(`Hooked ${iid}`);
      const sameSecond =
        Math.floor(Date.parse(listed.updated_at) / 1000) === Math.floor(Date.parse(hooked.updated_at) / 1000);
      if (sameSecond && !titles.includes(`Listed ${iid}`)) {
        expect(await refetches('sweep_unordered')).toBeGreaterThan(unorderedBefore);
        proven = true;
      }
    }
    await main.sim.clearFaults();
    expect(proven).toBe(true);
  });
});
