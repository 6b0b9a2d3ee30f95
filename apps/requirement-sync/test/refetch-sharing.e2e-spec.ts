import 'reflect-metadata';

import { createSimProject, eventually, TestStack, type RunningApp, type SimProject } from '@testkase/testing';

import { RealProjectLink } from './support/project-link';
import { allRequirements } from './support/requirements-api';

jest.setTimeout(180_000);

const EDITS = 10;
const IID = 4;
/** GitLab made slow to answer an issue, so that reads of it would overlap if nothing kept them apart. */
const READ_LATENCY_MS = 400;

/** The sum of one series over the replicas given (0 when absent). */
async function metricOf(apps: readonly RunningApp[], name: string, labels: Record<string, string> = {}) {
  let total = 0;
  for (const app of apps) {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/**
 * Bursty edits of one issue with two replicas of requirement-sync (issue 13, "GitLab calls per
 * event"): second-precise webhooks of one second cannot be ordered, so GitLab is asked for the
 * issue; the replicas ask at most once at a time per issue, the events that arrive meanwhile share
 * the next read, and the last edit always wins. gitlab-sim, the real gateway, connection-service and
 * both replicas on one database, real Postgres and NATS.
 */
describe('requirement-sync: one read of an issue at a time, across replicas', () => {
  let stack: TestStack;
  let project: SimProject;
  let replicas: RunningApp[];
  const TK = 'tk-refetch';

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label: 'rs_refetch',
    });
    replicas = [
      stack.app('requirement-sync'),
      await stack.startReplica('requirement-sync', { GRPC_PORT: '0' }),
    ];
    project = await createSimProject(stack.url('gitlab-sim'), {
      issues: { count: 6, descriptionTemplate: 'Requirement {{iid}}' },
    });
    await new RealProjectLink(stack).connect(TK, project);
    await eventually(async () => expect(await allRequirements(stack, TK)).toHaveLength(6), {
      timeoutMs: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('ten edits within a few seconds: never two reads in flight, fewer reads than events, the last edit wins', async () => {
    const issuePath = `/api/v4/projects/*/issues/${IID}`;
    const fault = await project.sim.addFault({
      method: 'GET',
      path: issuePath,
      kind: 'latency',
      latencyMs: READ_LATENCY_MS,
    });
    const since = Date.now();
    const isRead = (request: { method: string; route: string | null; path: string }) =>
      request.method === 'GET' &&
      request.route === '/api/v4/projects/:id/issues/:issue_iid' &&
      request.path.endsWith(`/issues/${IID}`);
    let mostInFlight = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const reads = (await project.sim.apiRequests({ since, method: 'GET' })).filter(isRead);
        mostInFlight = Math.max(mostInFlight, reads.filter((request) => request.status === null).length);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const sharedBefore = await metricOf(replicas, 'requirement_sync_refetches_shared_total');
    const titles = Array.from({ length: EDITS }, (_, index) => `Burst edit ${index + 1}`);
    try {
      // Two or three edits in each second: several webhooks of one second, over both replicas.
      for (const title of titles) {
        await project.sim.editIssues(project.id, { as: project.developer, edits: [{ iid: IID, title }] });
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      await eventually(
        async () => {
          const requirement = (await allRequirements(stack, TK)).find((r) => r.external.iid === IID);
          expect(requirement?.title).toBe(titles.at(-1));
        },
        { timeoutMs: 60_000 },
      );
      await project.sim.flushDeliveries();
      // Every delivery was taken, and each replica has settled what it got.
      const deliveries = (await project.sim.deliveries({ project: project.id, since })).filter(
        (delivery) => (delivery.payload['object_attributes'] as { iid?: number } | undefined)?.iid === IID,
      );
      expect(deliveries).toHaveLength(EDITS);
      expect(deliveries.every((delivery) => delivery.outcome === 'success')).toBe(true);
      await eventually(async () =>
        expect(
          await metricOf(replicas, 'requirement_sync_issue_events_total', { outcome: 'stale' }),
        ).toBeGreaterThan(0),
      );
    } finally {
      watching = false;
      await watcher;
      await project.sim.removeFault(fault.id);
    }

    // The reads made, each answered.
    const reads = await eventually(async () => {
      const made = (await project.sim.apiRequests({ since, method: 'GET' })).filter(isRead);
      expect(made.every((request) => request.status === 200)).toBe(true);
      return made;
    });
    expect(mostInFlight).toBeLessThanOrEqual(1);
    // One read per event that could not be ordered would be about nine; sharing keeps it at a few.
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThanOrEqual(5);
    expect(await metricOf(replicas, 'requirement_sync_refetches_shared_total')).toBeGreaterThan(sharedBefore);

    // The requirement is the issue as GitLab has it: the last edit, nothing older on top of it.
    const issue = (await (
      await fetch(`${stack.url('gitlab-sim')}/api/v4/projects/${project.id}/issues/${IID}`, {
        headers: { 'private-token': project.token },
      })
    ).json()) as { title: string; description: string | null };
    const requirement = (await allRequirements(stack, TK)).find((r) => r.external.iid === IID);
    expect(requirement?.title).toBe(issue.title);
    expect(requirement?.title).toBe(titles.at(-1));
    expect(requirement?.descriptionHtml).toContain(issue.description ?? '');
  });
});
