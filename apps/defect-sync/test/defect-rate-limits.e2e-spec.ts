import 'reflect-metadata';

import type { DefectPushedV1 } from '@testkase/contracts';
import { eventually } from '@testkase/testing';

import { DefectWorld, type LinkedProject } from './support/defect-world';

jest.setTimeout(300_000);

/** Half again GitLab.com's 200 issue creations a minute: the queue must wait out a window. */
const PUSHES = 300;

/**
 * GitLab.com's limits, as the simulator enforces them (fixed one-minute windows: 200 issue
 * creations, 2,000 requests per user): 300 pushes at once wait in defect-sync instead of failing —
 * each answered 202 `pending` within PUSH_WAIT, each issue created exactly once, never a 429.
 */
describe('defect-sync: GitLab.com rate limits', () => {
  let world: DefectWorld;
  let project: LinkedProject;

  beforeAll(async () => {
    world = await DefectWorld.start('ds_rate', { env: { GITLAB_RATE_LIMITS: 'gitlab.com' } });
    project = await world.linkedProject();
    await project.gitlab.sim.setRateLimits({ preset: 'gitlab.com' });
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it(`pushes ${PUSHES} defects under the GitLab.com preset: no 429, each pushed once`, async () => {
    const since = Date.now();
    const ids = Array.from({ length: PUSHES }, (_, index) => `DEF-RL-${index + 1}`);
    const statuses: number[] = [];
    for (let start = 0; start < ids.length; start += 100) {
      const answers = await Promise.all(
        ids.slice(start, start + 100).map((id) => world.push(project.projectId, id)),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses.every((status) => status === 201 || status === 202)).toBe(true);
    expect(statuses.filter((status) => status === 202).length).toBeGreaterThan(0);

    await eventually(
      async () => {
        const pushed = (
          await world.probe.events<DefectPushedV1>('TESTKASE_EVENTS', 'testkase.defect.pushed')
        ).filter((event) => event.data.defect.projectId === project.projectId);
        expect(new Set(pushed.map((event) => event.data.defect.defectId)).size).toBe(PUSHES);
      },
      { timeoutMs: 200_000, intervalMs: 5_000 },
    );
    const issues = (await world.issues(project.gitlab)).filter((issue) =>
      /<!-- testkase:defect:DEF-RL-\d+ -->/.test(issue.description ?? ''),
    );
    expect(issues).toHaveLength(PUSHES);
    const markers = new Set(
      issues.map((issue) => /testkase:defect:(DEF-RL-\d+)/.exec(issue.description ?? '')?.[1]),
    );
    expect(markers.size).toBe(PUSHES);
    const requests = await project.gitlab.sim.apiRequests({ since, limit: 100_000 });
    expect(requests.filter((request) => request.status === 429)).toEqual([]);
    for (const id of ['DEF-RL-1', `DEF-RL-${PUSHES / 2}`, `DEF-RL-${PUSHES}`]) {
      expect((await world.get(project.projectId, id)).body).toMatchObject({
        syncStatus: 'synced',
        error: null,
      });
    }
  });
});
