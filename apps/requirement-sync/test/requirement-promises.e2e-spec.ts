import 'reflect-metadata';

import type {
  CloudEvent,
  ReconciliationReportedV1,
  RequirementUpsertedV1,
  RequirementV1,
} from '@testkase/contracts';
import {
  CoreGrpcClient,
  createSimProject,
  eventually,
  freePort,
  NatsProbe,
  TestStack,
  type SimProject,
} from '@testkase/testing';

import { RealProjectLink } from './support/project-link';
import { allRequirements, requirementOfIssue, upsertedEvents } from './support/requirements-api';

jest.setTimeout(60_000);

/**
 * The product page's promises about requirements (issue 10, "What the product page promises"),
 * end to end: gitlab-sim, the real webhook-gateway, connection-service and requirement-sync, real
 * Postgres and NATS. One stack for the file; each test uses its own issues.
 */
describe('requirement-sync keeps its promises', () => {
  let stack: TestStack;
  let link: RealProjectLink;
  let probe: NatsProbe;
  let grpc: CoreGrpcClient;
  /** tk-prio: #1 priority::high, #2 confidential, #3 plain, #4 for bad input. */
  let prio: SimProject;
  let prioConnection: string;
  const PRIO = 'tk-prio';

  const route = (projectId: string, requirementId: string) =>
    `/v1/projects/${projectId}/requirements/${requirementId}`;
  const patch = (projectId: string, requirementId: string, body: unknown) =>
    stack.core<RequirementV1 & { error?: { code: string; message: string; details?: unknown } }>(
      'requirement-sync',
      'PATCH',
      route(projectId, requirementId),
      body,
    );
  const requirement = async (projectId: string, iid: number): Promise<RequirementV1> => {
    const found = await requirementOfIssue(stack, projectId, iid);
    if (!found) throw new Error(`no requirement for #${iid} in ${projectId}`);
    return found;
  };
  const eventsOf = async (
    projectId: string,
    requirementId: string,
  ): Promise<Array<CloudEvent<RequirementUpsertedV1>>> =>
    (await upsertedEvents(probe, projectId)).filter((event) => event.data.requirement.id === requirementId);
  /** The upserted event of one version of a requirement (events are published after commit). */
  const eventAt = (projectId: string, requirementId: string, version: number) =>
    eventually(async () => {
      const event = (await eventsOf(projectId, requirementId)).find(
        (candidate) => candidate.data.requirement.version === version,
      );
      if (!event) throw new Error(`no upserted event of version ${version} yet`);
      return event.data;
    });
  const fullSweepAfter = async (connectionId: string, since: number) =>
    eventually(
      async () => {
        const reports = (
          await probe.events<ReconciliationReportedV1>('INTEGRATION', 'integration.requirement.reconciled')
        ).map((event) => event.data);
        expect(
          reports.some(
            (report) =>
              report.connectionId === connectionId &&
              report.kind === 'full' &&
              Date.parse(report.startedAt) >= since,
          ),
        ).toBe(true);
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    const grpcPort = await freePort();
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'rs_promises',
      env: {
        'requirement-sync': {
          RECONCILE_INTERVAL: '2s',
          RECONCILE_SAFETY_MARGIN: '1m',
          SYNC_SCHEDULER_TICK: '200ms',
          CREDENTIALS_CACHE_TTL: '2s',
          GRPC_PORT: String(grpcPort),
        },
      },
    });
    link = new RealProjectLink(stack);
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    grpc = new CoreGrpcClient('requirements', `127.0.0.1:${grpcPort}`, stack.coreToken);
    prio = await createSimProject(stack.url('gitlab-sim'));
    const as = prio.developer;
    await prio.sim.createIssue(prio.id, {
      as,
      title: 'Password reset',
      labels: ['priority::high', 'auth'],
    });
    await prio.sim.createIssue(prio.id, { as, title: 'Security review', confidential: true });
    await prio.sim.createIssue(prio.id, { as, title: 'Dark mode' });
    await prio.sim.createIssue(prio.id, { as, title: 'Read-only fields', labels: ['priority::low'] });
    prioConnection = await link.connect(PRIO, prio);
    await eventually(async () => expect(await allRequirements(stack, PRIO)).toHaveLength(4), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  }, 120_000);

  afterAll(async () => {
    grpc?.close();
    await probe?.close();
    await stack?.stop();
  });

  it('keeps a TestKase priority on a synced requirement until its priority labels change on GitLab', async () => {
    const before = await requirement(PRIO, 1);
    expect(before).toMatchObject({ priority: 'P1', prioritySource: 'gitlab', syncState: 'synced' });

    const set = await patch(PRIO, before.id, { priority: 'P0' });
    expect(set).toMatchObject({
      status: 200,
      body: { priority: 'P0', prioritySource: 'testkase', syncState: 'synced', version: before.version + 1 },
    });
    expect(await eventAt(PRIO, before.id, before.version + 1)).toMatchObject({
      changedFields: ['priority'],
      requirement: { priority: 'P0', prioritySource: 'testkase' },
    });

    // An edit on GitLab that changes the labels but not the priority labels: the override stays.
    await prio.sim.updateIssue(prio.id, 1, {
      as: prio.developer,
      title: 'Password reset by email',
      addLabels: ['ux'],
    });
    await eventually(async () =>
      expect(await requirement(PRIO, 1)).toMatchObject({
        title: 'Password reset by email',
        labels: ['auth', 'priority::high', 'ux'],
        priority: 'P0',
        prioritySource: 'testkase',
      }),
    );
    const edited = await eventAt(PRIO, before.id, before.version + 2);
    expect(edited.changedFields).toEqual(expect.arrayContaining(['title', 'labels']));
    expect(edited.changedFields).not.toContain('priority');
    expect(edited).not.toHaveProperty('droppedPriorityOverride');

    // A full sweep reads the issue again, and a restart reads the database again: still the override.
    const since = Date.now();
    await link.resync(PRIO);
    await fullSweepAfter(prioConnection, since);
    await stack.app('requirement-sync').kill();
    await stack.startApp('requirement-sync');
    expect(await requirement(PRIO, 1)).toMatchObject({
      priority: 'P0',
      prioritySource: 'testkase',
      version: before.version + 2,
    });

    // A priority label set on GitLab wins, and the event says which override it dropped.
    await prio.sim.relabelIssue(prio.id, 1, prio.developer, ['auth', 'priority::low', 'ux']);
    await eventually(async () =>
      expect(await requirement(PRIO, 1)).toMatchObject({ priority: 'P3', prioritySource: 'gitlab' }),
    );
    const dropped = await eventAt(PRIO, before.id, before.version + 3);
    expect(dropped).toMatchObject({
      droppedPriorityOverride: 'P0',
      requirement: { priority: 'P3', prioritySource: 'gitlab', labels: ['auth', 'priority::low', 'ux'] },
    });
    expect(dropped.changedFields).toEqual(expect.arrayContaining(['labels', 'priority']));
  });

  it('says which TestKase edits GitLab replaced when a project is connected again', async () => {
    const project = await createSimProject(stack.url('gitlab-sim'));
    const as = project.developer;
    await project.sim.createIssue(project.id, {
      as,
      title: 'Export as CSV',
      description: 'Rows and columns',
      labels: ['priority::medium'],
    });
    await project.sim.createIssue(project.id, { as, title: 'Import' });
    await project.sim.createIssue(project.id, { as, title: 'Audit log', labels: ['priority::low'] });
    await link.connect('tk-reattach', project);
    await eventually(async () => expect(await allRequirements(stack, 'tk-reattach')).toHaveLength(3), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const [exported, imported, audited] = [
      await requirement('tk-reattach', 1),
      await requirement('tk-reattach', 2),
      await requirement('tk-reattach', 3),
    ];
    // #3 gets an override while synced: a reconnect keeps it (its priority labels did not change).
    expect(await patch('tk-reattach', audited.id, { priority: 'P0' })).toMatchObject({ status: 200 });

    await link.disconnect('tk-reattach');
    await eventually(async () =>
      expect((await allRequirements(stack, 'tk-reattach')).map((r) => r.syncState)).toEqual([
        'detached',
        'detached',
        'detached',
      ]),
    );
    const edited = await patch('tk-reattach', exported.id, {
      title: 'Export as CSV and XLSX',
      description: 'Edited in TestKase',
      priority: 'P0',
      status: 'Deprecated',
    });
    expect(edited).toMatchObject({
      status: 200,
      body: { title: 'Export as CSV and XLSX', prioritySource: 'testkase', syncState: 'detached' },
    });
    // Meanwhile on GitLab: #1 gets the same description TestKase gave it, #2 a new title.
    await project.sim.updateIssue(project.id, 1, { as, description: 'Edited in TestKase' });
    await project.sim.updateIssue(project.id, 2, { as, title: 'Import from CSV' });

    await link.connect('tk-reattach', project);
    await eventually(
      async () =>
        expect(await allRequirements(stack, 'tk-reattach')).toEqual([
          expect.objectContaining({
            id: exported.id,
            syncState: 'synced',
            title: 'Export as CSV',
            descriptionMarkdown: 'Edited in TestKase',
            priority: 'P2',
            prioritySource: 'gitlab',
            status: 'Active',
          }),
          expect.objectContaining({ id: imported.id, syncState: 'synced', title: 'Import from CSV' }),
          expect.objectContaining({
            id: audited.id,
            syncState: 'synced',
            priority: 'P0',
            prioritySource: 'testkase',
          }),
        ]),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const replacedOf = async (id: string) =>
      (await eventsOf('tk-reattach', id)).map((event) => event.data.replaced).filter(Boolean);
    // Only the fields TestKase edited and GitLab's values differ from, with TestKase's values.
    await eventually(async () =>
      expect(await replacedOf(exported.id)).toEqual([
        { title: 'Export as CSV and XLSX', priority: 'P0', status: 'Deprecated' },
      ]),
    );
    expect(await replacedOf(imported.id)).toEqual([]);
    expect(await replacedOf(audited.id)).toEqual([]);
    const refreshed = (await eventsOf('tk-reattach', exported.id)).find((event) => event.data.replaced);
    expect(refreshed?.data.changedFields).toEqual(expect.arrayContaining(['title', 'priority', 'status']));
  });

  it('filters the list by confidential, and events keep the flag', async () => {
    const iidsOf = async (filters: Record<string, string>) =>
      (await allRequirements(stack, PRIO, filters)).map((r) => r.external.iid);
    expect(await iidsOf({ confidential: 'true' })).toEqual([2]);
    expect(await iidsOf({ confidential: 'false' })).toEqual([1, 3, 4]);
    const security = await requirement(PRIO, 2);
    expect((await eventsOf(PRIO, security.id))[0]?.data).toMatchObject({
      created: true,
      requirement: { confidential: true },
    });

    await prio.sim.updateIssue(prio.id, 3, { as: prio.developer, confidential: true });
    await eventually(async () => expect(await iidsOf({ confidential: 'true' })).toEqual([2, 3]));
    const dark = await requirement(PRIO, 3);
    expect(await eventAt(PRIO, dark.id, dark.version)).toMatchObject({
      changedFields: ['confidential'],
      requirement: { confidential: true },
    });
    const overGrpc = await grpc.call('ListRequirements', { projectId: PRIO, confidential: false });
    expect(((overGrpc.reply?.['requirements'] ?? []) as RequirementV1[]).map((r) => r.external.iid)).toEqual([
      1, 4,
    ]);
  });

  it('refuses bad input: other fields of a synced requirement, bad values, another project', async () => {
    const target = await requirement(PRIO, 4);
    const refused = await patch(PRIO, target.id, { priority: 'P0', description: 'Rewritten in TestKase' });
    expect(refused).toMatchObject({
      status: 409,
      body: { error: { code: 'SYNCED_READ_ONLY', details: { fields: ['description'] } } },
    });
    expect(refused.body.error?.message).toMatch(/^description is read-only/);
    expect(await patch(PRIO, target.id, { title: 'Renamed', status: 'Deprecated' })).toMatchObject({
      status: 409,
      body: { error: { code: 'SYNCED_READ_ONLY', details: { fields: ['title', 'status'] } } },
    });
    for (const body of [{ priority: 'P9' }, { priority: 'high' }, {}, { prioritySource: 'testkase' }]) {
      expect(await patch(PRIO, target.id, body)).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED' } },
      });
    }
    // Nothing was written by any of them.
    expect(await requirement(PRIO, 4)).toEqual(target);

    // Another TestKase project never sees or edits it.
    expect(await patch('tk-reattach', target.id, { priority: 'P0' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    for (const query of [
      'confidential=maybe',
      'confidential=TRUE',
      'confidential=1',
      'confidential=true&confidential=false',
    ]) {
      expect(
        await stack.core('requirement-sync', 'GET', `/v1/projects/${PRIO}/requirements?${query}`),
      ).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    }

    // The same rules over gRPC.
    const ref = { projectId: PRIO, requirementId: target.id };
    expect(await grpc.call('UpdateRequirement', { ...ref, title: 'No' })).toMatchObject({
      code: 'SYNCED_READ_ONLY',
    });
    // An enum number the proto does not define reaches validation as such.
    expect(await grpc.call('UpdateRequirement', { ...ref, priority: 9 })).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(
      await grpc.call('UpdateRequirement', {
        projectId: 'tk-reattach',
        requirementId: target.id,
        priority: 'REQUIREMENT_PRIORITY_P1',
      }),
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect(
      (await grpc.call('UpdateRequirement', { ...ref, priority: 'REQUIREMENT_PRIORITY_P1' })).reply,
    ).toMatchObject({
      requirement: {
        priority: 'REQUIREMENT_PRIORITY_P1',
        prioritySource: 'testkase',
        syncState: 'synced',
        version: target.version + 1,
      },
    });
    // `priority: null` gives the priority back to the issue's labels.
    expect(await patch(PRIO, target.id, { priority: null })).toMatchObject({
      status: 200,
      body: { priority: 'P3', prioritySource: 'gitlab', version: target.version + 2 },
    });
  });
});
