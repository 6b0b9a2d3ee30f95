import 'reflect-metadata';

import { randomBytes } from 'node:crypto';

import type { DefectPushedV1 } from '@testkase/contracts';
import { eventually, SIM_ACCESS, type RunningApp, type SimProject } from '@testkase/testing';

import { DefectWorld, type LinkedProject } from './support/defect-world';

jest.setTimeout(180_000);

/** Issue creations a minute, for the integration (client-side) and for the simulator alike. */
const LIMIT = 60;
/** Pushes per project: together a little more than the limit, so one minute cannot hold them all. */
const PER_PROJECT = 35;

/** The most timestamps inside any window [t, t + windowMs). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; first < sorted.length; first += 1) {
    while (last < sorted.length && sorted[last]! < sorted[first]! + windowMs) last += 1;
    most = Math.max(most, last - first);
  }
  return most;
}

/**
 * Two replicas of defect-sync on one database, two connections of one GitLab user (one token, two
 * projects), GitLab.com's preset with issue creation cut to 60 a minute on both sides. Each replica
 * runs one connection's lane (SYNC_JOB_CONCURRENCY=1), so both create issues at once for the same
 * token: only a budget the replicas share keeps the pair within the limit, with no 429.
 */
describe('defect-sync: one GitLab budget for two replicas', () => {
  let world: DefectWorld;
  let replica: RunningApp;
  let first: LinkedProject;
  let second: LinkedProject;

  beforeAll(async () => {
    world = await DefectWorld.start('ds_replicas', {
      env: {
        GITLAB_RATE_LIMITS: 'gitlab.com',
        GITLAB_RATE_LIMIT_ISSUE_CREATES_PER_MINUTE: String(LIMIT),
        SYNC_JOB_CONCURRENCY: '1',
        LANE_LINGER: '30s',
      },
    });
    replica = await world.stack.startReplica('defect-sync', { GRPC_PORT: '0' });
    first = await world.linkedProject('tk-a');
    // The same user and token, in a second GitLab project.
    const suffix = randomBytes(3).toString('hex');
    const info = await first.gitlab.sim.createProject({ path: `team-${suffix}/second-${suffix}` });
    await first.gitlab.sim.addMember({
      project: info.id,
      username: first.gitlab.bot,
      accessLevel: SIM_ACCESS.maintainer,
    });
    const gitlab: SimProject = {
      ...first.gitlab,
      info,
      id: info.id,
      path: info.pathWithNamespace,
      webUrl: info.webUrl,
    };
    const projectId = `tk-b-${suffix}`;
    second = { projectId, connectionId: await world.connect(projectId, gitlab), gitlab };
    await first.gitlab.sim.setRateLimits({ preset: 'gitlab.com', issueCreatesPerMinute: LIMIT });
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  /** A push through one replica's API (TestKase core may call any replica). */
  async function pushVia(app: RunningApp, project: LinkedProject, defectId: string): Promise<number> {
    const response = await fetch(
      `${app.url}/v1/projects/${encodeURIComponent(project.projectId)}/defects/${encodeURIComponent(defectId)}/push`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${world.stack.coreToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: `Replica push ${defectId}`,
          description: '<p>Pushed while another replica pushes too.</p>',
          priority: 'Major',
          status: 'Open',
          url: `https://testkase.example.com/${project.projectId}/defects/${defectId}`,
        }),
      },
    );
    await response.arrayBuffer();
    return response.status;
  }

  it(`creates ${2 * PER_PROJECT} issues from two replicas at once: never more than ${LIMIT} a minute, no 429`, async () => {
    const since = Date.now();
    const ids = (project: LinkedProject) =>
      Array.from({ length: PER_PROJECT }, (_, index) => `${project.projectId}-DEF-${index + 1}`);
    const statuses = await Promise.all([
      ...ids(first).map((id) => pushVia(world.stack.app('defect-sync'), first, id)),
      ...ids(second).map((id) => pushVia(replica, second, id)),
    ]);
    expect(statuses.every((status) => status === 201 || status === 202)).toBe(true);

    await eventually(
      async () => {
        const pushed = (
          await world.probe.events<DefectPushedV1>('TESTKASE_EVENTS', 'testkase.defect.pushed')
        ).map((event) => event.data.defect.defectId);
        expect(new Set(pushed).size).toBe(2 * PER_PROJECT);
      },
      { timeoutMs: 150_000, intervalMs: 2_000 },
    );

    const requests = await first.gitlab.sim.apiRequests({ since, limit: 100_000 });
    expect(requests.filter((request) => request.status === 429)).toEqual([]);
    const creations = requests.filter(
      (request) =>
        request.method === 'POST' &&
        request.route === '/api/v4/projects/:id/issues' &&
        request.username === first.gitlab.bot,
    );
    expect(creations).toHaveLength(2 * PER_PROJECT);
    const span = (project: LinkedProject) => {
      const times = creations.filter((request) => request.projectId === project.gitlab.id).map((r) => r.at);
      return { from: Math.min(...times), to: Math.max(...times) };
    };
    const [a, b] = [span(first), span(second)];
    // Both connections were served at the same time (one lane on each replica), through one budget.
    expect(Math.min(a.to, b.to) - Math.max(a.from, b.from)).toBeGreaterThan(20_000);
    expect(
      busiestWindow(
        creations.map((request) => request.at),
        60_000,
      ),
    ).toBeLessThanOrEqual(LIMIT);
    for (const project of [first, second]) {
      expect(await world.issues(project.gitlab)).toHaveLength(PER_PROJECT);
    }
  });
});
