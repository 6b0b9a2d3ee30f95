import 'reflect-metadata';

import type {
  DefectPriorityChangedV1,
  DefectStatusChangedV1,
  DefectUpdatedV1,
  DefectV1,
} from '@testkase/contracts';
import { eventually } from '@testkase/testing';

import { DefectWorld, type LinkedProject } from './support/defect-world';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Defects and their issues stay equal both ways — status, priority, title and description — with no
 * echoes and no loops, and converge when both sides change at once.
 */
describe('defect-sync: both ways', () => {
  let world: DefectWorld;
  let project: LinkedProject;

  beforeAll(async () => {
    world = await DefectWorld.start('ds_sync');
    project = await world.linkedProject();
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  const statusEvents = (defectId: string) =>
    world.events<DefectStatusChangedV1>('testkase.defect.status_changed', project.projectId, defectId);
  const priorityEvents = (defectId: string) =>
    world.events<DefectPriorityChangedV1>('testkase.defect.priority_changed', project.projectId, defectId);
  const updatedEvents = (defectId: string) =>
    world.events<DefectUpdatedV1>('testkase.defect.updated', project.projectId, defectId);
  const defectOf = async (defectId: string): Promise<DefectV1> =>
    (await world.get(project.projectId, defectId)).body;

  it('turns GitLab closes, reopens and relabels into status and priority changes by the tables', async () => {
    const defect = await world.pushed(project, 'DEF-GL', { priority: 'Trivial', status: 'In-Progress' });
    const iid = defect.issue!.iid;
    const dev = project.gitlab.developer;

    await project.gitlab.sim.closeIssue(project.gitlab.id, iid, dev);
    await eventually(async () =>
      expect((await statusEvents('DEF-GL')).map((e) => e.data.status)).toEqual(['Closed']),
    );
    const [closed] = await statusEvents('DEF-GL');
    expect(closed!.data).toMatchObject({
      previousStatus: 'In-Progress',
      gitlabState: 'closed',
      actor: { username: dev },
      defect: { status: 'Closed', syncStatus: 'synced' },
    });

    await project.gitlab.sim.reopenIssue(project.gitlab.id, iid, dev);
    await eventually(async () =>
      expect((await statusEvents('DEF-GL')).map((e) => e.data.status)).toEqual(['Closed', 'Open']),
    );

    // priority::low keeps a Trivial defect Trivial: no event; critical makes it a Blocker.
    await project.gitlab.sim.relabelIssue(project.gitlab.id, iid, dev, ['priority::critical']);
    await eventually(async () =>
      expect((await priorityEvents('DEF-GL')).map((e) => e.data.priority)).toEqual(['Blocker']),
    );
    await project.gitlab.sim.relabelIssue(project.gitlab.id, iid, dev, ['priority::low']);
    await eventually(async () =>
      expect((await priorityEvents('DEF-GL')).map((e) => e.data.priority)).toEqual(['Blocker', 'Minor']),
    );
    expect(await defectOf('DEF-GL')).toMatchObject({ priority: 'Minor', status: 'Open' });
  });

  it('turns GitLab title and description edits into testkase.defect.updated, without our block', async () => {
    const defect = await world.pushed(project, 'DEF-TEXT');
    const iid = defect.issue!.iid;
    const issue = await world.issue(project.gitlab, iid);
    const block = (issue.description ?? '').slice(
      (issue.description ?? '').indexOf('<!-- testkase:footer -->'),
    );
    await project.gitlab.sim.updateIssue(project.gitlab.id, iid, {
      as: project.gitlab.developer,
      title: 'Expired cards are refused at checkout',
      description: `New steps: **pay** with <script>x</script> an expired card.\n\n${block}`,
    });
    await eventually(async () => expect(await updatedEvents('DEF-TEXT')).toHaveLength(1));
    const [updated] = await updatedEvents('DEF-TEXT');
    expect(updated!.data).toMatchObject({
      changedFields: ['title', 'description'],
      title: 'Expired cards are refused at checkout',
      descriptionMarkdown: 'New steps: **pay** with <script>x</script> an expired card.',
      defect: { title: 'Expired cards are refused at checkout' },
    });
    expect(updated!.data.descriptionHtml).toContain('<strong>pay</strong>');
    expect(updated!.data.descriptionHtml).not.toContain('<script');
  });

  it('writes TestKase changes to GitLab once each, and their webhooks come back as nothing', async () => {
    const defect = await world.pushed(project, 'DEF-TK', { priority: 'Major' });
    const iid = defect.issue!.iid;
    await project.gitlab.sim.flushDeliveries();
    await sleep(300);
    const since = Date.now();

    const closed = await world.patch(project.projectId, 'DEF-TK', { status: 'Closed' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: 'Closed',
      syncStatus: 'synced',
      gitlab: { state: 'closed' },
    });
    const relabelled = await world.patch(project.projectId, 'DEF-TK', { priority: 'Blocker' });
    expect(relabelled.body).toMatchObject({ priority: 'Blocker', syncStatus: 'synced' });
    const renamed = await world.patch(project.projectId, 'DEF-TK', {
      title: 'Renamed in TestKase',
      description: '<p>New <em>steps</em></p>',
    });
    expect(renamed.body.syncStatus).toBe('synced');
    // Open → In-Progress does not change the issue: no write at all.
    const achieved = await world.patch(project.projectId, 'DEF-TK', { status: 'Achieved' });
    expect(achieved.body.status).toBe('Achieved');

    const issue = await world.issue(project.gitlab, iid);
    expect(issue).toMatchObject({
      state: 'closed',
      title: 'Renamed in TestKase',
      labels: ['priority::critical'],
    });
    expect(issue.description).toContain('New _steps_');
    expect(issue.description).toContain('<!-- testkase:defect:DEF-TK -->');
    expect(issue.description).toContain('View defect DEF-TK in TestKase');

    await project.gitlab.sim.flushDeliveries();
    await sleep(1_500);
    // Three issue writes (and the priority::critical label created first, which this project lacked).
    expect(await world.writesSince(project.gitlab, since, 'issues')).toBe(3);
    expect(await statusEvents('DEF-TK')).toEqual([]);
    expect(await priorityEvents('DEF-TK')).toEqual([]);
    expect(await updatedEvents('DEF-TK')).toEqual([]);

    // A real edit by someone else a second later still counts, and costs us no write.
    const beforeReopen = Date.now();
    await project.gitlab.sim.reopenIssue(project.gitlab.id, iid, project.gitlab.developer);
    await eventually(async () =>
      expect((await statusEvents('DEF-TK')).map((e) => e.data)).toEqual([
        expect.objectContaining({ previousStatus: 'Achieved', status: 'Open' }),
      ]),
    );
    await sleep(1_000);
    expect(await world.writesSince(project.gitlab, beforeReopen)).toBe(0);
  });

  it('keeps the marker and the link back when someone deletes them on GitLab', async () => {
    const defect = await world.pushed(project, 'DEF-BLOCK');
    const iid = defect.issue!.iid;
    await project.gitlab.sim.updateIssue(project.gitlab.id, iid, {
      as: project.gitlab.developer,
      description: 'Only my own text now',
    });
    await eventually(async () => {
      const description = (await world.issue(project.gitlab, iid)).description ?? '';
      expect(description).toContain('Only my own text now');
      expect(description).toContain('<!-- testkase:defect:DEF-BLOCK -->');
    });
    await eventually(async () =>
      expect((await updatedEvents('DEF-BLOCK')).map((e) => e.data.descriptionMarkdown)).toEqual([
        'Only my own text now',
      ]),
    );
  });

  it('converges when both sides change the same field: the later edit wins', async () => {
    const defect = await world.pushed(project, 'DEF-BOTH');
    const iid = defect.issue!.iid;
    // TestKase's edit cannot reach GitLab for a while (GitLab answers 503)…
    const fault = await project.gitlab.sim.addFault({
      method: 'PUT',
      path: `/api/v4/projects/${project.gitlab.id}/issues/${iid}`,
      kind: 'status',
      status: 503,
    });
    const pending = await world.patch(project.projectId, 'DEF-BOTH', { title: 'Title from TestKase' });
    expect(pending.body.syncStatus).toBe('pending');
    await eventually(async () =>
      expect(await defectOf('DEF-BOTH')).toMatchObject({
        syncStatus: 'pending',
        error: { code: 'GITLAB_UNAVAILABLE' },
      }),
    );
    // …and a developer renames the issue afterwards: GitLab's later edit wins on both sides.
    await sleep(1_100);
    await project.gitlab.sim.updateIssue(project.gitlab.id, iid, {
      as: project.gitlab.developer,
      title: 'Title from GitLab',
    });
    await eventually(async () =>
      expect((await updatedEvents('DEF-BOTH')).map((e) => e.data.title)).toEqual(['Title from GitLab']),
    );
    await project.gitlab.sim.removeFault(fault.id);
    await eventually(
      async () => {
        expect((await world.issue(project.gitlab, iid)).title).toBe('Title from GitLab');
        expect(await defectOf('DEF-BOTH')).toMatchObject({
          title: 'Title from GitLab',
          syncStatus: 'synced',
        });
      },
      { timeoutMs: 20_000 },
    );

    // The other order: GitLab's edit is lost on the way (no webhook), then TestKase edits later: TestKase wins.
    await project.gitlab.sim.dropDeliveries({ next: 1 });
    await project.gitlab.sim.updateIssue(project.gitlab.id, iid, {
      as: project.gitlab.developer,
      title: 'Early GitLab title',
    });
    await sleep(1_100);
    const later = await world.patch(project.projectId, 'DEF-BOTH', { title: 'Later TestKase title' });
    expect(later.body.title).toBe('Later TestKase title');
    // Synced within PUSH_WAIT normally; on a loaded machine the answer may be `pending` first.
    await eventually(async () => expect((await defectOf('DEF-BOTH')).syncStatus).toBe('synced'));
    await sleep(3_000); // a reconciliation sees GitLab's (older) edit and our write: nothing to report
    expect((await world.issue(project.gitlab, iid)).title).toBe('Later TestKase title');
    expect(await defectOf('DEF-BOTH')).toMatchObject({ title: 'Later TestKase title', syncStatus: 'synced' });
    expect((await updatedEvents('DEF-BOTH')).map((e) => e.data.title)).toEqual(['Title from GitLab']);
  });

  it('leaves one priority label when GitLab relabelled the issue unseen just before a TestKase change', async () => {
    // Found by the soak (bench/soak): GitLab Free keeps every scoped label it is given, and we removed
    // only the priority labels we had seen, so a label added on GitLab in the meantime stayed next to ours.
    const defect = await world.pushed(project, 'DEF-PRIO-RACE', { priority: 'Major' });
    const iid = defect.issue!.iid;
    const { sim, id } = project.gitlab;
    // defect-sync does not see the relabel: its webhook is lost and sweeps cannot list issues for now.
    const blind = await sim.addFault({
      method: 'GET',
      path: `/api/v4/projects/${id}/issues`,
      kind: 'status',
      status: 503,
    });
    try {
      await sim.dropDeliveries({ next: 1 });
      await sim.relabelIssue(id, iid, project.gitlab.developer, ['priority::critical']);
      await sleep(1_100);
      // TestKase's change is the later one: it wins, and only its label stays.
      await world.patch(project.projectId, 'DEF-PRIO-RACE', { priority: 'Minor' });
      await eventually(
        async () => {
          expect((await world.issue(project.gitlab, iid)).labels).toEqual(['priority::low']);
          expect(await defectOf('DEF-PRIO-RACE')).toMatchObject({ priority: 'Minor', syncStatus: 'synced' });
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await sim.removeFault(blind.id);
    }
  });

  it('takes a GitLab change it never heard of from the answer to its own write', async () => {
    // Found by the soak (bench/soak): a close on GitLab whose webhook was lost, then a TestKase change;
    // our write's answer showed the issue closed and was taken as already seen: the defect stayed Open.
    await world.pushed(project, 'DEF-UNSEEN', { priority: 'Major', status: 'Open' });
    const iid = (await defectOf('DEF-UNSEEN')).issue!.iid;
    const { sim, id } = project.gitlab;
    const blind = await sim.addFault({
      method: 'GET',
      path: `/api/v4/projects/${id}/issues`,
      kind: 'status',
      status: 503,
    });
    try {
      await sim.dropDeliveries({ next: 1 });
      await sim.closeIssue(id, iid, project.gitlab.developer);
      await sleep(1_100);
      await world.patch(project.projectId, 'DEF-UNSEEN', { priority: 'Blocker' });
      await eventually(
        async () => {
          expect(await defectOf('DEF-UNSEEN')).toMatchObject({
            status: 'Closed',
            priority: 'Blocker',
            syncStatus: 'synced',
          });
          expect(await world.issue(project.gitlab, iid)).toMatchObject({
            state: 'closed',
            labels: ['priority::critical'],
          });
          expect((await statusEvents('DEF-UNSEEN')).map((e) => e.data.status)).toEqual(['Closed']);
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await sim.removeFault(blind.id);
    }
  });

  it('gives the issue the priority TestKase changed while its push was under way', async () => {
    // Found by the soak (bench/soak): the issue was created with the label of the priority the lane
    // had read, and the change made meanwhile was taken as already on GitLab.
    const fresh = await world.linkedProject('tk-stale');
    const { sim, id } = fresh.gitlab;
    // The priority label's creation (the first step of a push in a new project) takes 3 s.
    await sim.addFault({
      method: 'POST',
      path: `/api/v4/projects/${id}/labels`,
      kind: 'latency',
      latencyMs: 3_000,
      count: 1,
    });
    const pushing = world.push(fresh.projectId, 'DEF-STALE', { priority: 'Minor' });
    await sleep(1_000);
    const patched = await world.patch(fresh.projectId, 'DEF-STALE', { priority: 'Blocker' });
    expect(patched.status).toBeLessThan(300);
    await pushing;
    await eventually(
      async () => {
        const defect = await world.get(fresh.projectId, 'DEF-STALE');
        expect(defect.body).toMatchObject({ priority: 'Blocker', syncStatus: 'synced' });
        expect((await world.issue(fresh.gitlab, defect.body.issue!.iid)).labels).toEqual([
          'priority::critical',
        ]);
      },
      { timeoutMs: 20_000 },
    );
  });

  it('repairs missed webhooks and failed writes at reconciliation, in both directions', async () => {
    const defect = await world.pushed(project, 'DEF-REPAIR');
    const iid = defect.issue!.iid;
    await project.gitlab.sim.dropDeliveries({ next: 1 });
    await project.gitlab.sim.closeIssue(project.gitlab.id, iid, project.gitlab.developer);
    await eventually(
      async () => expect((await statusEvents('DEF-REPAIR')).map((e) => e.data.status)).toEqual(['Closed']),
      {
        timeoutMs: 20_000,
      },
    );

    const fault = await project.gitlab.sim.addFault({
      method: 'PUT',
      path: `/api/v4/projects/${project.gitlab.id}/issues/${iid}`,
      kind: 'status',
      status: 500,
    });
    const patched = await world.patch(project.projectId, 'DEF-REPAIR', { priority: 'Blocker' });
    expect(patched.body.syncStatus).toBe('pending');
    await eventually(
      async () =>
        expect(await defectOf('DEF-REPAIR')).toMatchObject({
          syncStatus: 'pending',
          error: { code: 'GITLAB_UNAVAILABLE' },
        }),
      { timeoutMs: 20_000 },
    );
    await project.gitlab.sim.removeFault(fault.id);
    await eventually(
      async () => expect((await world.issue(project.gitlab, iid)).labels).toEqual(['priority::critical']),
      {
        timeoutMs: 20_000,
      },
    );
    await eventually(async () =>
      expect(await defectOf('DEF-REPAIR')).toMatchObject({ syncStatus: 'synced', error: null }),
    );
  });

  it('stops on disconnect without losing anything, and re-attaches and reconciles on reconnect', async () => {
    const own = await world.linkedProject('reconnect');
    const defect = await world.pushed(own, 'DEF-DC');
    const iid = defect.issue!.iid;
    await world.disconnect(own.projectId);
    await eventually(async () =>
      expect((await world.get(own.projectId, 'DEF-DC')).body).toMatchObject({
        syncStatus: 'detached',
        issue: { iid },
      }),
    );
    expect((await world.push(own.projectId, 'DEF-DC-2')).body.error?.code).toBe('NOT_CONNECTED');
    expect((await world.patch(own.projectId, 'DEF-DC', { status: 'Closed' })).body.error?.code).toBe(
      'NOT_CONNECTED',
    );
    // Changed on GitLab meanwhile: nothing is reported while disconnected…
    await own.gitlab.sim.closeIssue(own.gitlab.id, iid, own.gitlab.developer);
    await sleep(1_000);
    expect(
      await world.events<DefectStatusChangedV1>('testkase.defect.status_changed', own.projectId, 'DEF-DC'),
    ).toEqual([]);
    expect((await world.issue(own.gitlab, iid)).state).toBe('closed');
    // …and repaired once connected again to the same GitLab project: same link, no second issue.
    await world.connect(own.projectId, own.gitlab);
    await eventually(
      async () => {
        const events = await world.events<DefectStatusChangedV1>(
          'testkase.defect.status_changed',
          own.projectId,
          'DEF-DC',
        );
        expect(events.map((e) => e.data.status)).toEqual(['Closed']);
      },
      { timeoutMs: 20_000 },
    );
    expect((await world.get(own.projectId, 'DEF-DC')).body).toMatchObject({
      syncStatus: 'synced',
      issue: { iid },
      status: 'Closed',
    });
    expect(await world.issuesWithMarker(own.gitlab, 'DEF-DC')).toHaveLength(1);
  });

  it('ignores stale and duplicate deliveries, and issues it did not create', async () => {
    const defect = await world.pushed(project, 'DEF-DUP');
    const iid = defect.issue!.iid;
    await project.gitlab.sim.closeIssue(project.gitlab.id, iid, project.gitlab.developer);
    await eventually(async () => expect(await statusEvents('DEF-DUP')).toHaveLength(1));
    const [delivery] = (await project.gitlab.sim.deliveries({ project: project.gitlab.id })).filter(
      (d) =>
        d.event === 'Issue Hook' &&
        (d.payload as { object_attributes?: { iid?: number; action?: string } }).object_attributes?.iid ===
          iid &&
        (d.payload as { object_attributes?: { action?: string } }).object_attributes?.action === 'close',
    );
    await project.gitlab.sim.reopenIssue(project.gitlab.id, iid, project.gitlab.developer);
    await eventually(async () => expect(await statusEvents('DEF-DUP')).toHaveLength(2));
    // The old close delivered again (GitLab's "Resend request") changes nothing.
    await project.gitlab.sim.resendDelivery(delivery!.id);
    await sleep(1_000);
    expect((await statusEvents('DEF-DUP')).map((e) => e.data.status)).toEqual(['Closed', 'Open']);
    expect(await defectOf('DEF-DUP')).toMatchObject({ status: 'Open' });
    // A copy of a pushed issue is not that defect.
    await project.gitlab.sim.addNote(project.gitlab.id, iid, {
      as: project.gitlab.developer,
      body: '/clone',
    });
    await sleep(500);
    const copies = await world.issuesWithMarker(project.gitlab, 'DEF-DUP');
    expect(copies).toHaveLength(2);
    const copy = copies.find((issue) => issue.iid !== iid)!;
    await project.gitlab.sim.closeIssue(project.gitlab.id, copy.iid, project.gitlab.developer);
    await sleep(1_000);
    expect((await statusEvents('DEF-DUP')).map((e) => e.data.status)).toEqual(['Closed', 'Open']);
  });
});
