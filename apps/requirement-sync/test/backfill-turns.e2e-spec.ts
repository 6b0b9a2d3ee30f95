import 'reflect-metadata';

import {
  RequirementUpsertedBatch,
  type BackfillProgressReportedV1,
  type RequirementUpsertedBatchV1,
} from '@testkase/contracts';
import { createSimProject, eventually, NatsProbe, TestStack, type SimProject } from '@testkase/testing';

import { allRequirements, upsertedEvents } from './support/requirements-api';

jest.setTimeout(180_000);

/**
 * Backfills of several connections take turns (BACKFILL_SLICE, apps/requirement-sync/README.md,
 * "Backfill"): a small project connected just after a large one is imported first, the large one
 * goes on from its checkpoints, and each is imported whole and once. Their `upserted` events come
 * as `upserted_batch` messages. gitlab-sim, the real gateway, connection-service and
 * requirement-sync (one job at a time, turns of 100 ms), real Postgres and NATS.
 */
describe('requirement-sync: many backfills at once', () => {
  let stack: TestStack;
  let probe: NatsProbe;
  let large: SimProject;
  let small: SimProject;
  const LARGE_ISSUES = 3_000;
  const SMALL_ISSUES = 30;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'rs_turns',
      env: {
        'requirement-sync': {
          BACKFILL_SLICE: '100ms',
          SYNC_JOB_CONCURRENCY: '1',
          SYNC_SCHEDULER_TICK: '100ms',
        },
      },
    });
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    large = await createSimProject(stack.url('gitlab-sim'), { issues: { count: LARGE_ISSUES } });
    small = await createSimProject(stack.url('gitlab-sim'), { issues: { count: SMALL_ISSUES } });
  }, 120_000);

  afterAll(async () => {
    await probe?.close();
    await stack?.stop();
  });

  const connect = (projectId: string, project: SimProject) =>
    stack.core('connection-service', 'PUT', `/v1/projects/${projectId}/connection`, {
      platform: 'gitlab',
      instanceUrl: new URL(project.webUrl).origin,
      projectRef: project.path,
      token: project.token,
    });

  const progress = async (projectId: string): Promise<BackfillProgressReportedV1[]> =>
    (
      await probe.events<BackfillProgressReportedV1>(
        'INTEGRATION',
        'integration.requirement.backfill_progress',
      )
    )
      .map((event) => event.data)
      .filter((data) => data.projectId === projectId);

  it('imports a small project connected after a large one first, and both whole, each issue once', async () => {
    expect((await connect('tk-large', large)).status).toBe(200);
    // The large backfill has begun (its estimate made) before the small project is connected.
    await eventually(async () => expect((await progress('tk-large')).length).toBeGreaterThan(0));
    expect((await connect('tk-small', small)).status).toBe(200);

    await eventually(
      async () => expect((await progress('tk-large')).some((data) => data.state === 'completed')).toBe(true),
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const finished = async (projectId: string) =>
      Date.parse((await progress(projectId)).find((data) => data.state === 'completed')?.finishedAt ?? '');
    expect(await finished('tk-small')).toBeLessThan(await finished('tk-large'));
    expect((await progress('tk-large')).at(-1)).toMatchObject({ state: 'completed', imported: LARGE_ISSUES });

    for (const [projectId, count] of [
      ['tk-large', LARGE_ISSUES],
      ['tk-small', SMALL_ISSUES],
    ] as const) {
      expect(await allRequirements(stack, projectId)).toHaveLength(count);
      const events = await upsertedEvents(probe, projectId);
      expect(events).toHaveLength(count);
      expect(new Set(events.map((event) => event.data.requirement.id)).size).toBe(count);
      expect(events.every((event) => event.data.created)).toBe(true);
    }
  });

  it('sends the backfill upserts as upserted_batch messages of at most 100 items, one connection each', async () => {
    const batches = (
      await probe.events<RequirementUpsertedBatchV1>('TESTKASE_EVENTS', RequirementUpsertedBatch.subject)
    ).filter((event) => event.data.items[0]?.requirement.projectId === 'tk-large');
    expect(batches.length).toBeGreaterThanOrEqual(LARGE_ISSUES / 100);
    for (const batch of batches) {
      expect(batch).toMatchObject({
        type: 'testkase.requirement.upserted_batch.v1',
        subject: batch.data.connectionId,
      });
      expect(batch.data.items.length).toBeLessThanOrEqual(100);
      expect(
        batch.data.items.every((item) => item.requirement.connectionId === batch.data.connectionId),
      ).toBe(true);
    }
    expect(await probe.events('TESTKASE_EVENTS', 'testkase.requirement.upserted')).toEqual([]);
  });
});
