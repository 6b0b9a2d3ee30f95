/**
 * `npm run bench:defects` (issue 8). Two runs through the real path — TestKase core's HTTP push to
 * defect-sync, which creates the issue in gitlab-sim through the connection's lane:
 *
 * 1. limits off: BENCH_PUSHES (1,000) pushes, BENCH_CONCURRENCY (32) in flight, against a baseline
 *    measured in the same run: the same number of issues created straight on the simulator's REST
 *    API with the same concurrency (what GitLab itself costs). Pushes/s, p50/p99 from the request to
 *    the issue recorded, CPU per push per process.
 * 2. the GitLab.com preset (200 issue creations a minute, 2,000 requests, fixed windows):
 *    BENCH_LIMITED_PUSHES (500) pushes at once. The simulator's request log gives each creation's
 *    time: the observed rate, the busiest minute, and the 429s (the goal: ≥ 90 % and ≤ 100 % of
 *    the limit, zero 429s).
 *
 * Results go to the `defect-sync` section of bench/RESULTS.md.
 */
import { randomBytes } from 'node:crypto';

import type { DefectV1 } from '@testkase/contracts';
import { createSimProject, TestStack, type SimProject } from '@testkase/testing';

import { recordFigures, type FigureInput } from './lib/goals';
import { publishResults, runBenchmark } from './lib/results';
import { cpuSnapshot, percentile, pidsOf, sleep } from './lib/sync-stack';

const PUSHES = Number(process.env['BENCH_PUSHES'] ?? 1_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const LIMITED_PUSHES = Number(process.env['BENCH_LIMITED_PUSHES'] ?? 500);
const ISSUE_LIMIT_PER_MINUTE = 200;
/** The figures for bench/results/defects.json (bench/lib/goals.ts), filled by each run. */
const figures: FigureInput[] = [];
/** CPU of defect-sync's own path per push: every process but the simulator. */
const productCpuMs = (cpu: Record<string, number>, count: number) =>
  (1000 *
    Object.entries(cpu).reduce((sum, [part, seconds]) => sum + (part === 'gitlab-sim' ? 0 : seconds), 0)) /
  count;

interface Run {
  seconds: number;
  latencies: number[];
  statuses: Map<number, number>;
  cpu: Record<string, number>;
}

async function startStack(label: string, env: Record<string, string>): Promise<TestStack> {
  return TestStack.start({
    label,
    apps: ['webhook-gateway', 'connection-service', 'defect-sync'],
    env: {
      'defect-sync': { SYNC_SCHEDULER_TICK: '100ms', ...env },
    },
  });
}

async function connect(stack: TestStack, gitlab: SimProject): Promise<string> {
  const projectId = `bench-${randomBytes(3).toString('hex')}`;
  const response = await stack.core('connection-service', 'PUT', `/v1/projects/${projectId}/connection`, {
    platform: 'gitlab',
    instanceUrl: new URL(gitlab.webUrl).origin,
    projectRef: gitlab.path,
    token: gitlab.token,
  });
  if (response.status >= 300) throw new Error(`connect answered ${response.status}`);
  // The first push waits for defect-sync to learn of the connection; one warm-up push settles it.
  await stack.core(
    'defect-sync',
    'POST',
    `/v1/projects/${projectId}/defects/WARMUP/push`,
    pushBody(projectId, 'WARMUP'),
  );
  return projectId;
}

const pushBody = (projectId: string, defectId: string) => ({
  title: `Defect ${defectId} found in the regression cycle`,
  description:
    '<p>Steps: open the cart, pay with an <strong>expired</strong> card.</p><ul><li>Expected: an error</li></ul>',
  priority: 'Major',
  status: 'Open',
  url: `https://testkase.example.com/${projectId}/defects/${defectId}`,
  context: { testCaseKey: 'TC-1', testCaseTitle: 'Checkout', cycle: 'Regression', failedStep: '3' },
});

const parts = (stack: TestStack, database: string): Record<string, () => number[]> => ({
  'defect-sync': () => [stack.app('defect-sync').pid],
  'gitlab-sim': () => [stack.app('gitlab-sim').pid],
  gateway: () => [stack.app('webhook-gateway').pid],
  'connection-service': () => [stack.app('connection-service').pid],
  postgres: () => pidsOf('postgres', database),
  nats: () => pidsOf('nats-server'),
});

const cpuDelta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((key) => [key, (after[key] ?? 0) - (before[key] ?? 0)]));

/** Runs `count` tasks with at most `concurrency` at once. */
async function pool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) await task(index);
    }),
  );
}

async function waitPushed(stack: TestStack, projectId: string, defectId: string): Promise<DefectV1> {
  for (;;) {
    const { body } = await stack.core<DefectV1>(
      'defect-sync',
      'GET',
      `/v1/projects/${projectId}/defects/${defectId}`,
    );
    if (body.issue && body.pushedAt) return body;
    if (body.syncStatus === 'failed')
      throw new Error(`push of ${defectId} failed: ${JSON.stringify(body.error)}`);
    await sleep(200);
  }
}

/** Issues created straight on the simulator (the baseline: what GitLab itself costs). */
async function baseline(stack: TestStack, gitlab: SimProject, database: string): Promise<Run> {
  const url = `${stack.url('gitlab-sim')}/api/v4/projects/${gitlab.id}/issues`;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const before = cpuSnapshot(parts(stack, database));
  const started = performance.now();
  await pool(PUSHES, CONCURRENCY, async (index) => {
    const at = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'private-token': gitlab.token },
      body: JSON.stringify({ title: `Direct ${index}`, description: 'Steps', labels: 'priority::medium' }),
    });
    await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    latencies.push(performance.now() - at);
  });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, latencies, statuses, cpu: cpuDelta(before, cpuSnapshot(parts(stack, database))) };
}

async function pushes(
  stack: TestStack,
  projectId: string,
  count: number,
  database: string,
  prefix: string,
): Promise<Run> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const before = cpuSnapshot(parts(stack, database));
  const startedWall = Date.now();
  const startedAt = new Map<string, number>();
  await pool(count, CONCURRENCY, async (index) => {
    const defectId = `${prefix}-${index + 1}`;
    startedAt.set(defectId, Date.now());
    const response = await stack.core(
      'defect-sync',
      'POST',
      `/v1/projects/${projectId}/defects/${defectId}/push`,
      pushBody(projectId, defectId),
    );
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  });
  let last = 0;
  for (const [defectId, at] of startedAt) {
    const defect = await waitPushed(stack, projectId, defectId);
    const pushedAt = Date.parse(defect.pushedAt!);
    latencies.push(pushedAt - at);
    last = Math.max(last, pushedAt);
  }
  const seconds = (last - startedWall) / 1000;
  return { seconds, latencies, statuses, cpu: cpuDelta(before, cpuSnapshot(parts(stack, database))) };
}

const ms = (value: number) => `${Math.round(value)} ms`;
const cpuPer = (cpu: Record<string, number>, count: number) =>
  Object.entries(cpu)
    .filter(([, seconds]) => seconds > 0)
    .map(([part, seconds]) => `${part} ${((seconds / count) * 1000).toFixed(2)} ms`)
    .join(', ');
const statusLine = (statuses: Map<number, number>) =>
  [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}×${count}`)
    .join(', ');

async function limitsOff(): Promise<string> {
  const stack = await startStack('bench_defects', { GITLAB_RATE_LIMITS: 'self-managed' });
  try {
    const database = new URL(stack.environment.databaseUrl).pathname.slice(1);
    const direct = await createSimProject(stack.url('gitlab-sim'));
    const base = await baseline(stack, direct, database);
    const gitlab = await createSimProject(stack.url('gitlab-sim'));
    const projectId = await connect(stack, gitlab);
    const run = await pushes(stack, projectId, PUSHES, database, 'DEF');
    const sortedBase = [...base.latencies].sort((a, b) => a - b);
    const sorted = [...run.latencies].sort((a, b) => a - b);
    figures.push(
      {
        figure: `pushes/s, limits off (${PUSHES}, ${CONCURRENCY} in flight)`,
        value: PUSHES / run.seconds,
        unit: 'pushes/s',
        baseline: {
          value: PUSHES / base.seconds,
          unit: 'issues/s',
          what: 'POST /issues straight to gitlab-sim',
        },
      },
      {
        figure: 'CPU per push, limits off, every process but the simulator',
        value: productCpuMs(run.cpu, PUSHES),
        unit: 'ms',
        baseline: {
          value: ((base.cpu['gitlab-sim'] ?? 0) / PUSHES) * 1000,
          unit: 'ms',
          what: "the simulator's CPU per issue created straight",
        },
      },
      ...Object.entries(run.cpu)
        .filter(([part, seconds]) => part !== 'gitlab-sim' && seconds > 0)
        .map(([part, seconds]) => ({
          figure: `CPU per push, limits off: ${part}`,
          value: (seconds / PUSHES) * 1000,
          unit: 'ms',
        })),
    );
    return [
      `### ${PUSHES} pushes, limits off, ${CONCURRENCY} in flight`,
      '',
      '| | per second | p50 | p99 | answers | CPU per issue, by process |',
      '|---|---|---|---|---|---|',
      `| baseline: POST /issues straight to gitlab-sim | ${(PUSHES / base.seconds).toFixed(0)} | ${ms(percentile(sortedBase, 50))} | ${ms(percentile(sortedBase, 99))} | ${statusLine(base.statuses)} | ${cpuPer(base.cpu, PUSHES)} |`,
      `| push through defect-sync (request → issue recorded) | ${(PUSHES / run.seconds).toFixed(0)} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${statusLine(run.statuses)} | ${cpuPer(run.cpu, PUSHES)} |`,
    ].join('\n');
  } finally {
    await stack.stop();
  }
}

async function gitlabComPreset(): Promise<string> {
  const stack = await startStack('bench_defects_rl', { GITLAB_RATE_LIMITS: 'gitlab.com' });
  try {
    const database = new URL(stack.environment.databaseUrl).pathname.slice(1);
    const gitlab = await createSimProject(stack.url('gitlab-sim'));
    const projectId = await connect(stack, gitlab);
    await gitlab.sim.setRateLimits({ preset: 'gitlab.com' });
    const since = Date.now();
    const run = await pushes(stack, projectId, LIMITED_PUSHES, database, 'RL');
    const requests = await gitlab.sim.apiRequests({ since, project: gitlab.id, limit: 100_000 });
    const creations = requests
      .filter(
        (request) => request.method === 'POST' && /\/issues$/.test(request.path) && request.status === 201,
      )
      .map((request) => request.at)
      .sort((a, b) => a - b);
    const tooMany = requests.filter((request) => request.status === 429).length;
    let busiest = 0;
    for (let first = 0, last = 0; first < creations.length; first += 1) {
      while (last < creations.length && creations[last]! < creations[first]! + 60_000) last += 1;
      busiest = Math.max(busiest, last - first);
    }
    const spanMinutes = (creations.at(-1)! - creations[0]!) / 60_000;
    const rate = (creations.length - 1) / spanMinutes;
    const sorted = [...run.latencies].sort((a, b) => a - b);
    const share = (rate / ISSUE_LIMIT_PER_MINUTE) * 100;
    const met = share >= 90 && share <= 100 && busiest <= ISSUE_LIMIT_PER_MINUTE && tooMany === 0;
    figures.push(
      {
        figure: `GitLab.com preset: observed rate, share of the limit (${LIMITED_PUSHES} pushes at once)`,
        value: share,
        unit: '%',
        goal: { comparison: '>=', target: 90, source: 'issue 8' },
        baseline: { value: ISSUE_LIMIT_PER_MINUTE, unit: 'issues/min', what: 'the limit' },
      },
      {
        figure: 'GitLab.com preset: observed rate within the limit',
        value: share,
        unit: '%',
        goal: { comparison: '<=', target: 100, source: 'issue 8' },
      },
      {
        figure: 'GitLab.com preset: busiest 60 s',
        value: busiest,
        unit: 'issues',
        goal: { comparison: '<=', target: ISSUE_LIMIT_PER_MINUTE, source: 'issue 8' },
      },
      {
        figure: 'GitLab.com preset: 429s',
        value: tooMany,
        unit: '',
        goal: { comparison: '==', target: 0, source: 'issue 8' },
      },
    );
    return [
      `### ${LIMITED_PUSHES} pushes at once, GitLab.com preset (${ISSUE_LIMIT_PER_MINUTE} issue creations a minute)`,
      '',
      '| issues created | observed rate | busiest 60 s | 429s | answers | p50 / p99 to the issue | goal |',
      '|---|---|---|---|---|---|---|',
      `| ${creations.length} | ${rate.toFixed(1)}/min (${share.toFixed(1)} % of the limit) | ${busiest} | ${tooMany} | ${statusLine(run.statuses)} | ${(percentile(sorted, 50) / 1000).toFixed(1)} s / ${(percentile(sorted, 99) / 1000).toFixed(1)} s | ${met ? 'met' : 'NOT met'} (≥ 90 % and ≤ 100 %, no 429) |`,
      '',
      `CPU per push: ${cpuPer(run.cpu, LIMITED_PUSHES)}. The observed rate is (issues − 1) over the time from the first creation to the last; the client's limiter lets 5 % of the budget go at once and spaces the rest, so no fixed GitLab minute sees more than ${ISSUE_LIMIT_PER_MINUTE}.`,
    ].join('\n');
  } finally {
    await stack.stop();
  }
}

runBenchmark('bench:defects', async () => {
  const off = await limitsOff();
  process.stdout.write(`${off}\n`);
  if (LIMITED_PUSHES === 0) return; // a quick look at the first run only (nothing is written)
  const limited = await gitlabComPreset();
  recordFigures('defects', 'defect-sync', figures);
  publishResults(
    'defect-sync',
    [
      '## defect-sync: pushes (`npm run bench:defects`)',
      '',
      off,
      '',
      limited,
      '',
      'Every run starts its own stack (gitlab-sim, webhook-gateway, connection-service, defect-sync from dist) on a fresh database; CPU is user + system time of each process over the run, divided by the pushes. p50/p99 run from the push request to the moment defect-sync recorded the issue (pushedAt).',
    ].join('\n'),
  );
});
