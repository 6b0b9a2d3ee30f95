/**
 * `npm run bench:comments` (issue 9). Three runs of comment-relay through the real path — TestKase
 * core's HTTP calls to comment-relay, the connection's lane writing to gitlab-sim — each on its own
 * stack (gitlab-sim, webhook-gateway, connection-service, requirement-sync, defect-sync and
 * comment-relay from dist, a fresh database and NATS prefix):
 *
 * 1. BENCH_LINK_CHANGES (200) link changes on one requirement, sent one after the other as fast as
 *    the API answers: links, re-links with a new title or status, and unlinks over
 *    BENCH_LINK_TEST_CASES (30) test cases, a fixed pseudo-random sequence ending in a known set.
 *    The GitLab writes comment-relay made for that issue's notes (the simulator's request log), the
 *    time from the last answer until the comment on GitLab lists exactly the final set (polling
 *    the REST notes), the answers' p50/p99 and CPU per change, against a baseline measured in the
 *    same run: the same changes written naively, one note edit each, straight to the simulator.
 *    Then BENCH_LONG_LINK_CHANGES (2,000; 0 skips) on another requirement: a stream longer than
 *    LINK_MAX_DELAY, to see how many writes the debounce lets through while changes keep coming.
 * 2. BENCH_COMMENTS (300) comments on a pushed defect, BENCH_COMMENT_CONCURRENCY (50) in flight,
 *    under the GitLab.com preset (60 note creations a minute per user, fixed windows) on both
 *    sides: the time until every note exists, the observed rate against the limit (goal ≥ 90 %),
 *    the busiest 60 s (≤ 60), the 429s (0), notes doubled or missing (0), CPU per note.
 * 3. One test case linked to each of BENCH_REQUIREMENTS (1,000) requirements, BENCH_LINK_CONCURRENCY
 *    (32) in flight, under a self-managed note limit (300 creations a minute on both sides): the
 *    time until every link comment exists, rate, busiest 60 s, 429s, one comment per issue, CPU.
 *
 * comment-relay keeps its production debounce (LINK_DEBOUNCE 1s, LINK_MAX_DELAY 10s), COMMENT_WAIT
 * (2s) and lane settings; like the e2e tests, SYNC_SCHEDULER_TICK is 100ms. BENCH_ONLY=1|2|3 runs
 * one scenario and leaves bench/RESULTS.md alone. Results go to its `comment-relay` section.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';

import type { DefectV1, RequirementV1 } from '@testkase/contracts';
import {
  createSimProject,
  TestStack,
  type SimApiRequest,
  type SimIssue,
  type SimProject,
} from '@testkase/testing';

import { recordFigures, type FigureInput } from './lib/goals';
import {
  busiestWindow,
  clockWindows,
  countStatus,
  cpuDelta,
  cpuPer,
  deleteNatsPrefix,
  pool,
  seededRandom,
  statusLine,
  waitUntil,
  withTimeout,
} from './lib/load-tools';
import { publishResults, runBenchmark } from './lib/results';
import { cpuSnapshot, percentile, pidsOf, sleep } from './lib/sync-stack';

const LINK_CHANGES = Number(process.env['BENCH_LINK_CHANGES'] ?? 200);
const LINK_TEST_CASES = Number(process.env['BENCH_LINK_TEST_CASES'] ?? 30);
/** A pause between link changes (default none: as fast as the API answers), to see the debounce on a slower stream. */
const LINK_PACE_MS = Number(process.env['BENCH_LINK_PACE_MS'] ?? 0);
/** A second, longer stream of changes on another requirement (0 skips it). */
const LONG_LINK_CHANGES = Number(process.env['BENCH_LONG_LINK_CHANGES'] ?? 2_000);
const COMMENTS = Number(process.env['BENCH_COMMENTS'] ?? 300);
const COMMENT_CONCURRENCY = Number(process.env['BENCH_COMMENT_CONCURRENCY'] ?? 50);
const REQUIREMENTS = Number(process.env['BENCH_REQUIREMENTS'] ?? 1_000);
const LINK_CONCURRENCY = Number(process.env['BENCH_LINK_CONCURRENCY'] ?? 32);
const ONLY = process.env['BENCH_ONLY'];

/** GitLab.com's note creations a minute per user, and a self-managed instance's default. */
const GITLAB_COM_NOTES_PER_MINUTE = 60;
const SELF_MANAGED_NOTES_PER_MINUTE = 300;
const LINK_MARKER = '<!-- testkase:test-cases -->';
/** The figures for bench/results/comments.json (bench/lib/goals.ts), filled by each scenario. */
const figures: FigureInput[] = [];
/** CPU per operation of one process, in ms. */
const cpuMsOf = (cpu: Record<string, number>, part: string, count: number) =>
  ((cpu[part] ?? 0) / count) * 1000;
/** Longest a single HTTP call of the driver may take before the run is called off. */
const REQUEST_TIMEOUT_MS = 30_000;

/** comment-relay's settings in every run: production defaults, spelled out, plus the test tick. */
const COMMENT_RELAY_ENV = {
  LINK_DEBOUNCE: '1s',
  LINK_MAX_DELAY: '10s',
  COMMENT_WAIT: '2s',
  SYNC_SCHEDULER_TICK: '100ms',
  RETRY_MAX_INTERVAL: '2s',
};

interface Bench {
  readonly stack: TestStack;
  readonly database: string;
  readonly gitlab: SimProject;
  readonly projectId: string;
}

type RequestRecord = SimApiRequest;

const APPS = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const;

async function startBench(
  label: string,
  commentRelayEnv: Record<string, string>,
  seedIssues?: number,
): Promise<Bench> {
  const stack = await TestStack.start({
    label,
    apps: [...APPS],
    env: {
      'comment-relay': { ...COMMENT_RELAY_ENV, ...commentRelayEnv },
      'defect-sync': { SYNC_SCHEDULER_TICK: '100ms' },
      'requirement-sync': { SYNC_SCHEDULER_TICK: '100ms' },
    },
  });
  try {
    const database = new URL(stack.environment.databaseUrl).pathname.slice(1);
    const gitlab = await createSimProject(
      stack.url('gitlab-sim'),
      seedIssues
        ? {
            issues: {
              count: seedIssues,
              titleTemplate: 'Requirement {{n}}: users can pay with a saved card',
              descriptionTemplate: 'As a **buyer** I want feature {{n}}.',
            },
          }
        : {},
    );
    const projectId = `bench-${randomBytes(3).toString('hex')}`;
    const response = await call(stack, 'connection-service', 'PUT', `/v1/projects/${projectId}/connection`, {
      platform: 'gitlab',
      instanceUrl: new URL(gitlab.webUrl).origin,
      projectRef: gitlab.path,
      token: gitlab.token,
    });
    if (response.status >= 300) {
      throw new Error(`connect answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    return { stack, database, gitlab, projectId };
  } catch (error) {
    await stopBench(stack);
    throw error;
  }
}

/** Stops the stack (its database goes with it) and deletes its NATS streams. */
async function stopBench(stack: TestStack): Promise<void> {
  await stack.stop();
  await deleteNatsPrefix(stack.environment.natsUrl, stack.environment.natsPrefix).catch((error: unknown) => {
    process.stderr.write(
      `could not delete the NATS streams of ${stack.environment.natsPrefix}: ${String(error)}\n`,
    );
  });
}

/** `stack.core` with a timeout, so a hung app fails the run instead of stalling it. */
function call<T = unknown>(
  stack: TestStack,
  app: (typeof APPS)[number],
  method: string,
  route: string,
  body?: unknown,
) {
  return withTimeout(
    stack.core<T>(app, method, route, body),
    REQUEST_TIMEOUT_MS,
    `${method} ${app} ${route}`,
  );
}

const parts = (bench: Bench): Record<string, () => number[]> => ({
  'comment-relay': () => [bench.stack.app('comment-relay').pid],
  'requirement-sync': () => [bench.stack.app('requirement-sync').pid],
  'defect-sync': () => [bench.stack.app('defect-sync').pid],
  'gitlab-sim': () => [bench.stack.app('gitlab-sim').pid],
  gateway: () => [bench.stack.app('webhook-gateway').pid],
  'connection-service': () => [bench.stack.app('connection-service').pid],
  postgres: () => pidsOf('postgres', bench.database),
  nats: () => pidsOf('nats-server'),
});

const loadLine = (before: number[], after: number[]) =>
  `load average ${before.map((v) => v.toFixed(2)).join(' / ')} before, ${after.map((v) => v.toFixed(2)).join(' / ')} after`;

/** CPU each process uses while nothing is asked of the stack (its schedulers, sweeps), in ms per second. */
async function idleCpu(bench: Bench, ms = 10_000): Promise<Record<string, number>> {
  const before = cpuSnapshot(parts(bench));
  await sleep(ms);
  const cpu = cpuDelta(before, cpuSnapshot(parts(bench)));
  return Object.fromEntries(Object.entries(cpu).map(([part, used]) => [part, (used * 1000) / (ms / 1000)]));
}

const idleLine = (idle: Record<string, number>) =>
  Object.entries(idle)
    .filter(([, rate]) => rate > 0)
    .map(([part, rate]) => `${part} ${rate.toFixed(1)}`)
    .join(', ');

/** CPU seconds over `durationMs` less what the idle rates (ms per second) account for, never below 0. */
const netOfIdle = (cpu: Record<string, number>, idle: Record<string, number>, durationMs: number) =>
  Object.fromEntries(
    Object.entries(cpu).map(([part, used]) => [
      part,
      Math.max(0, used - ((idle[part] ?? 0) / 1000) * (durationMs / 1000)),
    ]),
  );

/**
 * The least time `count` creations can take under the client's spacing of a per-minute limit
 * (libs/gitlab SpacedLimiter: 5 % of the budget at once, then evenly spaced with a 0.2 % margin).
 */
function limiterFloorMs(count: number, perMinute: number): number {
  const burst = Math.min(perMinute - 1, Math.max(1, Math.floor(perMinute * 0.05)));
  return Math.max(0, count - burst) * (60_000 / (perMinute - burst)) * 1.002;
}

/** All requirements requirement-sync lists for the project (pages of 200). */
async function listRequirements(bench: Bench): Promise<RequirementV1[]> {
  const items: RequirementV1[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `limit=200&cursor=${encodeURIComponent(cursor)}` : 'limit=200';
    const page = await call<{ items?: RequirementV1[]; nextCursor?: string | null }>(
      bench.stack,
      'requirement-sync',
      'GET',
      `/v1/projects/${bench.projectId}/requirements?${query}`,
    );
    if (page.status !== 200)
      throw new Error(`requirements answered ${page.status}: ${JSON.stringify(page.body)}`);
    items.push(...(page.body.items ?? []));
    cursor = page.body.nextCursor ?? null;
  } while (cursor);
  return items;
}

/** Opens issues on GitLab (as the Developer, webhooks firing) and waits until requirement-sync lists them. */
async function requirementsFor(bench: Bench, titles: string[]): Promise<Array<{ id: string; iid: number }>> {
  const issues: SimIssue[] = [];
  for (const title of titles) {
    issues.push(await bench.gitlab.sim.createIssue(bench.gitlab.id, { as: bench.gitlab.developer, title }));
  }
  let seen = 0;
  return waitUntil(
    `requirement-sync to import issues ${issues.map((issue) => `#${issue.iid}`).join(', ')}`,
    60_000,
    async () => {
      const listed = await listRequirements(bench);
      const found = issues.map((issue) => listed.find((item) => item.external.iid === issue.iid));
      seen = found.filter(Boolean).length;
      return found.every(Boolean)
        ? found.map((item) => ({ id: item!.id, iid: item!.external.iid }))
        : undefined;
    },
    { describe: () => `${seen} of ${issues.length} imported` },
  );
}

/** The issue's user notes, oldest first, over GitLab's REST API with `token`. */
async function restNotes(bench: Bench, iid: number, token = bench.gitlab.token) {
  const notes: Array<{ id: number; body: string; system: boolean }> = [];
  for (let page = 1; ; page += 1) {
    const response = await withTimeout(
      fetch(
        `${bench.stack.url('gitlab-sim')}/api/v4/projects/${bench.gitlab.id}/issues/${iid}/notes?sort=asc&per_page=100&page=${page}`,
        { headers: { 'private-token': token } },
      ),
      REQUEST_TIMEOUT_MS,
      `GET notes of #${iid}`,
    );
    if (!response.ok)
      throw new Error(`GET notes of #${iid} answered ${response.status}: ${await response.text()}`);
    const items = (await response.json()) as Array<{ id: number; body: string; system: boolean }>;
    notes.push(...items.filter((note) => !note.system));
    if (items.length < 100) return notes;
  }
}

/** The integration's note writes (POST/PUT/DELETE …/notes) on one issue since `since`. */
async function noteWrites(bench: Bench, since: number, iid?: number): Promise<RequestRecord[]> {
  const requests = await bench.gitlab.sim.apiRequests({
    since,
    project: bench.gitlab.id,
    method: ['POST', 'PUT', 'DELETE'],
    limit: 100_000,
  });
  const path =
    iid === undefined ? /\/issues\/\d+\/notes(\/\d+)?$/ : new RegExp(`/issues/${iid}/notes(/\\d+)?$`);
  return requests.filter((request) => request.username === bench.gitlab.bot && path.test(request.path));
}

const isCreation = (request: RequestRecord) => request.method === 'POST' && request.status === 201;

/** Requests the simulator refused with 429 since `since` (any route, any user). */
async function tooManyRequests(bench: Bench, since: number): Promise<number> {
  const requests = await bench.gitlab.sim.apiRequests({ since, limit: 100_000 });
  return requests.filter((request) => request.status === 429).length;
}

const ms = (value: number) => `${Math.round(value)} ms`;
const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
const percentiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

// ---------------------------------------------------------------------------------------------
// 1. 200 link changes on one requirement

interface Link {
  key: string;
  title: string;
  url: string;
  status: string;
}

interface Change {
  kind: 'link' | 'relink' | 'unlink';
  testCaseId: string;
  link?: Link;
  /** The list as it stands after this change (what a naive integration would write). */
  after: Link[];
}

const STATUSES = ['Passed', 'Failed', 'Blocked', 'Not run', 'Retest'];

/**
 * A fixed pseudo-random walk over `testCases` test cases: an unlinked one is linked; a linked one
 * is re-linked with a new title and status (60 %) or unlinked (40 %).
 */
function planChanges(count: number, testCases: number, seed: number): { changes: Change[]; final: Link[] } {
  const random = seededRandom(seed);
  const linked = new Map<string, Link>();
  const changes: Change[] = [];
  for (let index = 0; index < count; index += 1) {
    const testCaseId = `TC-${String(1 + Math.floor(random() * testCases)).padStart(2, '0')}`;
    const link = {
      key: testCaseId,
      title: `Checkout step ${testCaseId.slice(3)} revision ${index + 1}`,
      url: `https://testkase.example.com/tc/${testCaseId}`,
      status: STATUSES[Math.floor(random() * STATUSES.length)]!,
    };
    let kind: Change['kind'];
    if (!linked.has(testCaseId)) kind = 'link';
    else kind = random() < 0.6 ? 'relink' : 'unlink';
    if (kind === 'unlink') linked.delete(testCaseId);
    else linked.set(testCaseId, link);
    const after = [...linked.values()].sort((a, b) => a.key.localeCompare(b.key));
    changes.push({ kind, testCaseId, link: kind === 'unlink' ? undefined : link, after });
  }
  return { changes, final: changes.at(-1)?.after ?? [] };
}

/** The table row comment-relay shows for a link (its titles here need no escaping). */
const rowOf = (link: Link) => `| ${link.key} | [${link.title}](${link.url}) | ${link.status} |`;

/** What a naive integration writes after each change: the whole list, in comment-relay's layout. */
const naiveBody = (links: Link[]) =>
  [
    '### Linked TestKase test cases',
    '',
    '| Test case | Title | Latest status |',
    '|---|---|---|',
    ...links.map(rowOf),
    '',
    `_${links.length} test case${links.length === 1 ? '' : 's'} linked in TestKase. This comment is kept up to date by TestKase; edits here are replaced._`,
    '',
    LINK_MARKER,
  ].join('\n');

/** Whether the issue shows exactly one link comment whose rows are exactly `final` (any order). */
function exactlyRight(notes: Array<{ body: string }>, final: Link[]): boolean {
  const ours = notes.filter((note) => note.body.includes(LINK_MARKER));
  if (final.length === 0) return ours.length === 0;
  if (ours.length !== 1) return false;
  const body = ours[0]!.body;
  const rows = body
    .split('\n')
    .filter((line) => /^\| TC-/.test(line))
    .sort();
  const expected = final.map(rowOf).sort();
  return (
    rows.length === expected.length &&
    rows.every((row, index) => row === expected[index]) &&
    body.includes(`_${final.length} test case${final.length === 1 ? '' : 's'} linked in TestKase.`)
  );
}

interface LinkRun {
  sequenceMs: number;
  rightMs: number;
  lastWriteMs: number;
  writes: RequestRecord[];
  latencies: number[];
  statuses: Map<number, number>;
  cpu: Record<string, number>;
  /** Writes grouped into bursts (less than 500 ms apart): "+10.1 s ×18, …" from the first change. */
  bursts: string;
}

/** Sends `changes` for one requirement one after the other and waits until GitLab shows `final`. */
async function runLinkChanges(
  bench: Bench,
  requirement: { id: string; iid: number },
  changes: Change[],
  final: Link[],
): Promise<LinkRun> {
  const { stack, projectId } = bench;
  const listRoute = `/v1/projects/${projectId}/requirements/${requirement.id}/test-cases`;
  const route = (testCaseId: string) => `${listRoute}/${testCaseId}`;
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  const since = Date.now();
  const cpuBefore = cpuSnapshot(parts(bench));
  const started = performance.now();
  for (const change of changes) {
    const at = performance.now();
    const response =
      change.kind === 'unlink'
        ? await call(stack, 'comment-relay', 'DELETE', route(change.testCaseId))
        : await call(stack, 'comment-relay', 'PUT', route(change.testCaseId), change.link);
    latencies.push(performance.now() - at);
    countStatus(statuses, response.status);
    if (response.status !== 200 && response.status !== 202) {
      throw new Error(
        `${change.kind} ${change.testCaseId} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
    if (LINK_PACE_MS > 0 && change !== changes.at(-1)) await sleep(LINK_PACE_MS);
  }
  const sequenceMs = performance.now() - started;
  const lastAnswer = performance.now();
  const lastAnswerWall = Date.now();
  let polls = 0;
  await waitUntil(
    `the GitLab comment of #${requirement.iid} to list exactly the final test cases`,
    60_000,
    async () => {
      polls += 1;
      return exactlyRight(await restNotes(bench, requirement.iid), final) ? true : undefined;
    },
    { intervalMs: 50, describe: () => `${polls} polls of the notes` },
  );
  const rightMs = performance.now() - lastAnswer;
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(parts(bench)));
  await waitUntil('comment-relay to show the comment synced', 30_000, async () => {
    const { body } = await call<{ comment?: { syncStatus: string } }>(
      stack,
      'comment-relay',
      'GET',
      listRoute,
    );
    return body.comment?.syncStatus === 'synced' ? true : undefined;
  });
  // Anything still to come (a max-delay write, a retry) would show within LINK_MAX_DELAY.
  await sleep(11_000);
  if (!exactlyRight(await restNotes(bench, requirement.iid), final)) {
    throw new Error(`the GitLab comment of #${requirement.iid} changed after it was right`);
  }
  const writes = await noteWrites(bench, since, requirement.iid);
  const groups: Array<{ at: number; count: number; last: number }> = [];
  for (const write of writes) {
    const group = groups.at(-1);
    if (group && write.at - group.last < 500) {
      group.count += 1;
      group.last = write.at;
    } else groups.push({ at: write.at, count: 1, last: write.at });
  }
  const bursts = groups
    .map(
      (group) =>
        `+${((group.at - since) / 1000).toFixed(1)} s${group.count > 1 ? ` ×${group.count} (${seconds(group.last - group.at)})` : ''}`,
    )
    .join(', ');
  process.stdout.write(
    `  ${changes.length} changes in ${seconds(sequenceMs)}: note writes at ${writes.map((write) => `${write.method} +${((write.at - since) / 1000).toFixed(2)} s`).join(', ')}\n`,
  );
  const lastWriteMs = writes.length > 0 ? Math.max(...writes.map((write) => write.at)) - lastAnswerWall : NaN;
  return { sequenceMs, rightMs, lastWriteMs, writes, latencies, statuses, cpu, bursts };
}

const writesLine = (writes: RequestRecord[]) => {
  const byMethod = new Map<string, number>();
  for (const write of writes) byMethod.set(write.method, (byMethod.get(write.method) ?? 0) + 1);
  return `**${writes.length}** (${[...byMethod].map(([method, count]) => `${method} ${count}`).join(', ') || 'none'})`;
};

const linkRow = (label: string, count: number, run: LinkRun) => {
  const { p50, p99 } = percentiles(run.latencies);
  return `| ${label} | ${writesLine(run.writes)} | ${seconds(run.sequenceMs)} for the ${count} answers; last answer → comment exactly right **${seconds(run.rightMs)}** (last write ${seconds(run.lastWriteMs)} after the last answer) | ${ms(p50)} | ${ms(p99)} | ${statusLine(run.statuses)} | ${cpuPer(run.cpu, count)} |`;
};

async function linkChanges(): Promise<string> {
  const loadBefore = os.loadavg();
  const bench = await startBench('bench_comments_links', { GITLAB_RATE_LIMITS: 'self-managed' });
  try {
    const { stack, projectId } = bench;
    const { changes, final } = planChanges(LINK_CHANGES, LINK_TEST_CASES, 9);
    const kinds = { link: 0, relink: 0, unlink: 0 };
    for (const change of changes) kinds[change.kind] += 1;

    // The requirements, and one more to learn when comment-relay has heard of them.
    const [requirement, long, warmup] = await requirementsFor(bench, [
      'Users can pay with a saved card',
      'Users can pay with a new card',
      'Warm-up requirement',
    ]);
    const warmRoute = `/v1/projects/${projectId}/requirements/${warmup!.id}/test-cases/TC-WARM`;
    await waitUntil(
      'comment-relay to hear of the requirements (a link answered 200, not 202)',
      60_000,
      async () => {
        const response = await call(stack, 'comment-relay', 'PUT', warmRoute, {
          key: 'TC-WARM',
          title: 'Warm-up',
          url: 'https://testkase.example.com/tc/TC-WARM',
        });
        if (response.status >= 300 && response.status !== 202) {
          throw new Error(`warm-up link answered ${response.status}: ${JSON.stringify(response.body)}`);
        }
        return response.status === 200 ? true : undefined;
      },
    );
    await call(stack, 'comment-relay', 'DELETE', warmRoute);
    const idle = await idleCpu(bench);

    // Baseline: the same changes as note edits straight to the simulator, in a project no
    // connection watches (what GitLab itself costs: no webhooks, no integration).
    const direct = await createSimProject(stack.url('gitlab-sim'));
    const baseIssue = await direct.sim.createIssue(direct.id, { as: direct.developer, title: 'Baseline' });
    const notesUrl = `${stack.url('gitlab-sim')}/api/v4/projects/${direct.id}/issues/${baseIssue.iid}/notes`;
    const headers = { 'content-type': 'application/json', 'private-token': direct.token };
    const created = await fetch(notesUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ body: naiveBody([]) }),
    });
    if (created.status !== 201) throw new Error(`baseline note answered ${created.status}`);
    const baseNoteId = ((await created.json()) as { id: number }).id;
    const baseStatuses = new Map<number, number>();
    const baseLatencies: number[] = [];
    const baseCpuBefore = cpuSnapshot(parts(bench));
    const baseStarted = performance.now();
    for (const change of changes) {
      const at = performance.now();
      const response = await withTimeout(
        fetch(`${notesUrl}/${baseNoteId}`, {
          method: 'PUT',
          headers,
          body: JSON.stringify({ body: naiveBody(change.after) }),
        }),
        REQUEST_TIMEOUT_MS,
        'baseline PUT note',
      );
      await response.text();
      baseLatencies.push(performance.now() - at);
      countStatus(baseStatuses, response.status);
    }
    const baseMs = performance.now() - baseStarted;
    const baseCpu = cpuDelta(baseCpuBefore, cpuSnapshot(parts(bench)));
    const base = percentiles(baseLatencies);

    const run = await runLinkChanges(bench, requirement!, changes, final);
    const longPlan = LONG_LINK_CHANGES > 0 ? planChanges(LONG_LINK_CHANGES, LINK_TEST_CASES, 10) : undefined;
    const longRun = longPlan
      ? await runLinkChanges(bench, long!, longPlan.changes, longPlan.final)
      : undefined;
    const loadAfter = os.loadavg();
    const maxDelayWrites = longRun ? Math.ceil(longRun.sequenceMs / 10_000) + 1 : 0;
    figures.push(
      {
        figure: `1: GitLab note writes for ${LINK_CHANGES} link changes`,
        value: run.writes.length,
        unit: 'writes',
        baseline: { value: LINK_CHANGES + 1, unit: 'writes', what: 'a naive integration, one per change' },
      },
      {
        figure: '1: last answer → comment exactly right',
        value: run.rightMs / 1000,
        unit: 's',
      },
      {
        figure: '1: CPU per link change, comment-relay',
        value: cpuMsOf(run.cpu, 'comment-relay', LINK_CHANGES),
        unit: 'ms',
        baseline: {
          value: cpuMsOf(baseCpu, 'gitlab-sim', LINK_CHANGES),
          unit: 'ms',
          what: "the simulator's CPU per note edit, straight",
        },
      },
      ...(longRun
        ? [
            {
              figure: `1: GitLab note writes for ${LONG_LINK_CHANGES.toLocaleString('en-US')} link changes (longer than LINK_MAX_DELAY)`,
              value: longRun.writes.length,
              unit: 'writes',
              baseline: {
                value: maxDelayWrites,
                unit: 'writes',
                what: 'one per LINK_MAX_DELAY while changes keep coming',
              },
            },
          ]
        : []),
    );
    return [
      `### 1. ${LINK_CHANGES} link changes on one requirement, one after the other`,
      '',
      `${kinds.link} links, ${kinds.relink} re-links (new title and status), ${kinds.unlink} unlinks over ${LINK_TEST_CASES} test cases (a fixed pseudo-random sequence), each request sent when the previous one was answered${LINK_PACE_MS > 0 ? ` and ${LINK_PACE_MS} ms had passed` : ''}; the final list has ${final.length} test cases. comment-relay: LINK_DEBOUNCE 1s, LINK_MAX_DELAY 10s (production defaults).`,
      '',
      '| | GitLab note writes | time | answer p50 | answer p99 | answers | CPU per change, by process |',
      '|---|---|---|---|---|---|---|',
      `| baseline: ${LINK_CHANGES} × PUT …/notes/:note_id straight to gitlab-sim | ${LINK_CHANGES} (+1 POST) | ${seconds(baseMs)} for all | ${ms(base.p50)} | ${ms(base.p99)} | ${statusLine(baseStatuses)} | ${cpuPer(baseCpu, LINK_CHANGES)} |`,
      linkRow('through comment-relay', LINK_CHANGES, run),
      ...(longRun && longPlan
        ? [
            linkRow(
              `through comment-relay, ${LONG_LINK_CHANGES.toLocaleString('en-US')} changes (a stream longer than LINK_MAX_DELAY), another requirement`,
              LONG_LINK_CHANGES,
              longRun,
            ),
          ]
        : []),
      '',
      `"Exactly right": one comment with the marker, its rows exactly the final test cases with their last title and status, and the count line — polled every 50 ms over the REST notes API. CPU runs from the first change to that moment; the baseline's from its first edit to its last, in a second simulator project no connection watches (so no webhooks: GitLab's own cost), with the same bodies a naive integration would write after each change. Idle CPU of the stack before the runs, ms per second: ${idleLine(idle)}. ${loadLine(loadBefore, loadAfter)}.`,
      ...(longRun
        ? [
            '',
            `Writes over time (from the first change; bursts = writes less than 500 ms apart): ${LINK_CHANGES} changes: ${run.bursts}; ${LONG_LINK_CHANGES.toLocaleString('en-US')} changes: ${longRun.bursts}. A debounce that writes at most once per LINK_MAX_DELAY while changes keep coming would need about ${maxDelayWrites} writes for the ${seconds(longRun.sequenceMs)} stream.`,
          ]
        : []),
    ].join('\n');
  } finally {
    await stopBench(bench.stack);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. 300 defect comments under the GitLab.com preset

async function pushDefect(bench: Bench, defectId: string): Promise<number> {
  const push = await call(
    bench.stack,
    'defect-sync',
    'POST',
    `/v1/projects/${bench.projectId}/defects/${defectId}/push`,
    {
      title: `Defect ${defectId}: checkout fails with an expired card`,
      description: '<p>Steps: open the cart, pay with an <strong>expired</strong> card.</p>',
      priority: 'Major',
      status: 'Open',
      url: `https://testkase.example.com/${bench.projectId}/defects/${defectId}`,
    },
  );
  if (push.status >= 300 && push.status !== 202) {
    throw new Error(`push of ${defectId} answered ${push.status}: ${JSON.stringify(push.body)}`);
  }
  return waitUntil(`defect-sync to push ${defectId}`, 60_000, async () => {
    const { body } = await call<DefectV1>(
      bench.stack,
      'defect-sync',
      'GET',
      `/v1/projects/${bench.projectId}/defects/${defectId}`,
    );
    if (body.syncStatus === 'failed')
      throw new Error(`push of ${defectId} failed: ${JSON.stringify(body.error)}`);
    return body.issue?.iid;
  });
}

const commentRoute = (bench: Bench, defectId: string) =>
  `/v1/projects/${bench.projectId}/defects/${defectId}/comments`;

async function defectComments(): Promise<string> {
  const loadBefore = os.loadavg();
  const bench = await startBench('bench_comments_rl', { GITLAB_RATE_LIMITS: 'gitlab.com' });
  try {
    const { stack, gitlab } = bench;
    const defectId = 'DEF-1';
    const iid = await pushDefect(bench, defectId);
    // One comment first, until comment-relay has heard of the defect (201, or 202 then written).
    const warm = await call<{ noteId?: number | null }>(
      stack,
      'comment-relay',
      'POST',
      commentRoute(bench, defectId),
      {
        commentId: 'warm-up',
        author: 'Bench',
        body: '<p>Warm-up.</p>',
      },
    );
    if (warm.status >= 300 && warm.status !== 202) {
      throw new Error(`warm-up comment answered ${warm.status}: ${JSON.stringify(warm.body)}`);
    }
    await waitUntil('the warm-up comment to be posted', 60_000, async () => {
      const { body } = await call<{ noteId?: number | null }>(
        stack,
        'comment-relay',
        'GET',
        `${commentRoute(bench, defectId)}/warm-up`,
      );
      return body.noteId ? true : undefined;
    });
    // GitLab.com's limits from here (the simulator's windows start empty).
    await gitlab.sim.setRateLimits({ preset: 'gitlab.com' });
    const idle = await idleCpu(bench);
    const ids = Array.from({ length: COMMENTS }, (_, index) => `c-${String(index + 1).padStart(4, '0')}`);
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const since = Date.now();
    const cpuBefore = cpuSnapshot(parts(bench));
    await pool(COMMENTS, COMMENT_CONCURRENCY, async (index) => {
      const at = performance.now();
      const response = await call(stack, 'comment-relay', 'POST', commentRoute(bench, defectId), {
        commentId: ids[index],
        author: 'Ada Lovelace',
        body: `<p>Run ${index + 1}: the checkout still fails with card <code>4000-${index}</code>.</p>`,
      });
      latencies.push(performance.now() - at);
      countStatus(statuses, response.status);
      if (response.status !== 201 && response.status !== 202 && response.status !== 200) {
        throw new Error(
          `comment ${ids[index]} answered ${response.status}: ${JSON.stringify(response.body)}`,
        );
      }
    });
    const answeredMs = Date.now() - since;
    // ~5 minutes at 57 a minute; the log is the simulator's, polled without spending the token's budget.
    let creations: RequestRecord[] = [];
    let lastReport = Date.now();
    await waitUntil(
      `all ${COMMENTS} notes to be created on GitLab`,
      Math.max(10, (COMMENTS / GITLAB_COM_NOTES_PER_MINUTE) * 2.5) * 60_000,
      async () => {
        creations = (await noteWrites(bench, since, iid)).filter(isCreation);
        if (Date.now() - lastReport > 30_000) {
          lastReport = Date.now();
          process.stdout.write(
            `  ${creations.length} of ${COMMENTS} notes after ${seconds(Date.now() - since)}\n`,
          );
        }
        return creations.length >= COMMENTS ? true : undefined;
      },
      { intervalMs: 1_000, describe: () => `${creations.length} of ${COMMENTS} created` },
    );
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(parts(bench)));
    const measuredMs = Date.now() - since;
    const times = creations.map((request) => request.at).sort((a, b) => a - b);
    const allMs = times.at(-1)! - since;
    const spanMinutes = (times.at(-1)! - times[0]!) / 60_000;
    const rate = (times.length - 1) / spanMinutes;
    const share = (rate / GITLAB_COM_NOTES_PER_MINUTE) * 100;
    const busiest = busiestWindow(times);
    const minutes = clockWindows(times);
    await sleep(3_000); // a late duplicate would show up now
    const tooMany = await tooManyRequests(bench, since);
    const notes = await restNotes(bench, iid);
    const perComment = new Map(ids.map((id) => [id, 0]));
    for (const note of notes) {
      const id = /<!-- testkase:comment:([A-Za-z0-9_.:-]+) -->/.exec(note.body)?.[1];
      if (id && perComment.has(id)) perComment.set(id, perComment.get(id)! + 1);
    }
    const doubled = [...perComment.values()].filter((count) => count > 1).length;
    const missing = [...perComment.values()].filter((count) => count === 0).length;
    const createdTotal = (await noteWrites(bench, since, iid)).filter(isCreation).length;
    const answers = percentiles(latencies);
    figures.push(
      {
        figure: `2: observed note rate, share of the GitLab.com limit (${COMMENTS} comments at once)`,
        value: share,
        unit: '%',
        goal: { comparison: '>=', target: 90 },
        baseline: { value: GITLAB_COM_NOTES_PER_MINUTE, unit: 'notes/min', what: 'the limit' },
      },
      {
        figure: '2: busiest 60 s',
        value: busiest,
        unit: 'notes',
        goal: { comparison: '<=', target: GITLAB_COM_NOTES_PER_MINUTE },
      },
      { figure: '2: 429s', value: tooMany, unit: '', goal: { comparison: '==', target: 0 } },
      {
        figure: '2: comments doubled or missing',
        value: doubled + missing,
        unit: '',
        goal: { comparison: '==', target: 0 },
      },
      {
        figure: '2: CPU per comment, comment-relay (less its idle background)',
        value: cpuMsOf(netOfIdle(cpu, idle, measuredMs), 'comment-relay', COMMENTS),
        unit: 'ms',
      },
    );
    const met =
      share >= 90 &&
      busiest <= GITLAB_COM_NOTES_PER_MINUTE &&
      tooMany === 0 &&
      doubled === 0 &&
      missing === 0;
    const loadAfter = os.loadavg();
    return [
      `### 2. ${COMMENTS} defect comments at once, GitLab.com preset (${GITLAB_COM_NOTES_PER_MINUTE} note creations a minute)`,
      '',
      `One pushed defect; ${COMMENTS} POST …/defects/:id/comments, ${COMMENT_CONCURRENCY} in flight (all answered after ${seconds(answeredMs)}); comment-relay with GITLAB_RATE_LIMITS=gitlab.com, gitlab-sim with its gitlab.com preset (fixed one-minute windows per user).`,
      '',
      '| notes created | time to the last | observed rate | busiest 60 s | per clock minute | 429s | doubled / missing | answers | answer p50 / p99 | goal |',
      '|---|---|---|---|---|---|---|---|---|---|',
      `| ${createdTotal} | ${seconds(allMs)} (floor ${seconds(limiterFloorMs(COMMENTS, GITLAB_COM_NOTES_PER_MINUTE))}) | ${rate.toFixed(1)}/min (**${share.toFixed(1)} %** of the limit) | ${busiest} | ${minutes.join(', ')} | ${tooMany} | ${doubled} / ${missing} | ${statusLine(statuses)} | ${ms(answers.p50)} / ${ms(answers.p99)} | ${met ? 'met' : '**NOT met**'} (≥ 90 %, ≤ ${GITLAB_COM_NOTES_PER_MINUTE} in any 60 s, no 429, each marker on exactly one note) |`,
      '',
      `CPU per note: ${cpuPer(cpu, COMMENTS)}. The observed rate is (notes − 1) over the time from the first creation to the last (the simulator's request log); "per clock minute" counts them in the simulator's own windows (first and last partial). Doubled / missing: comments whose marker \`testkase:comment:<id>\` is on more than one / on no note of the issue (REST notes, read after the run). The floor is the least time the client's spacing allows (5 % of the budget at once, then one every 60 s / 57). Over a run this long the apps' background counts: idle CPU before the run, ms per second: ${idleLine(idle)}; nearly all of the CPU per note is that background — less it, roughly (a 10 s idle sample, so only the order of magnitude holds): ${cpuPer(netOfIdle(cpu, idle, measuredMs), COMMENTS)}. ${loadLine(loadBefore, loadAfter)}.`,
    ].join('\n');
  } finally {
    await stopBench(bench.stack);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Links for 1,000 requirements at once

async function manyRequirements(): Promise<string> {
  const loadBefore = os.loadavg();
  const bench = await startBench('bench_comments_many', { GITLAB_RATE_LIMITS: 'self-managed' }, REQUIREMENTS);
  try {
    const { stack, gitlab, projectId } = bench;
    const importStarted = Date.now();
    let listed: RequirementV1[] = [];
    await waitUntil(
      `requirement-sync to import ${REQUIREMENTS} requirements`,
      10 * 60_000,
      async () => {
        listed = await listRequirements(bench);
        return listed.length >= REQUIREMENTS ? true : undefined;
      },
      { intervalMs: 1_000, describe: () => `${listed.length} listed` },
    );
    const importMs = Date.now() - importStarted;
    const requirements = listed
      .map((item) => ({ id: item.id, iid: item.external.iid }))
      .sort((a, b) => a.iid - b.iid)
      .slice(0, REQUIREMENTS);
    // comment-relay hears of them from testkase.requirement.upserted; a link to one it has not
    // heard of yet answers 202 and is written once it has.
    const idle = await idleCpu(bench);
    await gitlab.sim.setRateLimits({ preset: 'off', noteCreatesPerMinute: SELF_MANAGED_NOTES_PER_MINUTE });
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const since = Date.now();
    const cpuBefore = cpuSnapshot(parts(bench));
    await pool(requirements.length, LINK_CONCURRENCY, async (index) => {
      const requirement = requirements[index]!;
      const testCaseId = `TC-${requirement.iid}`;
      const at = performance.now();
      const response = await call(
        stack,
        'comment-relay',
        'PUT',
        `/v1/projects/${projectId}/requirements/${requirement.id}/test-cases/${testCaseId}`,
        {
          key: testCaseId,
          title: `Pays with a saved card, case ${requirement.iid}`,
          url: `https://testkase.example.com/tc/${testCaseId}`,
          status: 'Passed',
        },
      );
      latencies.push(performance.now() - at);
      countStatus(statuses, response.status);
      if (response.status !== 200 && response.status !== 202) {
        throw new Error(`link ${testCaseId} answered ${response.status}: ${JSON.stringify(response.body)}`);
      }
    });
    const linkedMs = Date.now() - since;
    let creations: RequestRecord[] = [];
    let lastReport = Date.now();
    await waitUntil(
      `all ${requirements.length} link comments to be created on GitLab`,
      Math.max(10, (requirements.length / SELF_MANAGED_NOTES_PER_MINUTE) * 3) * 60_000,
      async () => {
        creations = (await noteWrites(bench, since)).filter(isCreation);
        if (Date.now() - lastReport > 30_000) {
          lastReport = Date.now();
          process.stdout.write(
            `  ${creations.length} of ${requirements.length} comments after ${seconds(Date.now() - since)}\n`,
          );
        }
        return creations.length >= requirements.length ? true : undefined;
      },
      { intervalMs: 1_000, describe: () => `${creations.length} of ${requirements.length} created` },
    );
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(parts(bench)));
    const times = creations.map((request) => request.at).sort((a, b) => a - b);
    const allMs = times.at(-1)! - since;
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 60_000);
    const share = (rate / SELF_MANAGED_NOTES_PER_MINUTE) * 100;
    const busiest = busiestWindow(times);
    const minutes = clockWindows(times);
    await sleep(3_000);
    const tooMany = await tooManyRequests(bench, since);
    const writes = await noteWrites(bench, since);
    const otherWrites = writes.length - writes.filter(isCreation).length;
    // Every issue's notes in one control-API call (the REST API would take one request per issue).
    const state = await gitlab.sim.state({ project: gitlab.id, limit: 100_000 });
    const issueIdToIid = new Map(
      state.issues.map((issue) => [issue['id'] as number, issue['iid'] as number]),
    );
    const linkNotes = new Map<number, string[]>();
    for (const note of state.notes) {
      const body = String(note['body']);
      if (!body.includes(LINK_MARKER)) continue;
      const issueIid = issueIdToIid.get(note['issueId'] as number)!;
      linkNotes.set(issueIid, [...(linkNotes.get(issueIid) ?? []), body]);
    }
    let right = 0;
    let wrong = 0;
    for (const requirement of requirements) {
      const bodies = linkNotes.get(requirement.iid) ?? [];
      if (
        bodies.length === 1 &&
        bodies[0]!.includes(`| TC-${requirement.iid} |`) &&
        bodies[0]!.includes('_1 test case linked')
      ) {
        right += 1;
      } else wrong += 1;
    }
    const answers = percentiles(latencies);
    const met = share >= 90 && busiest <= SELF_MANAGED_NOTES_PER_MINUTE && tooMany === 0 && wrong === 0;
    figures.push(
      {
        figure: `3: observed comment rate, share of the self-managed limit (${requirements.length} links at once)`,
        value: share,
        unit: '%',
        goal: { comparison: '>=', target: 90 },
        baseline: { value: SELF_MANAGED_NOTES_PER_MINUTE, unit: 'notes/min', what: 'the limit' },
      },
      {
        figure: '3: busiest 60 s',
        value: busiest,
        unit: 'notes',
        goal: { comparison: '<=', target: SELF_MANAGED_NOTES_PER_MINUTE },
      },
      { figure: '3: 429s', value: tooMany, unit: '', goal: { comparison: '==', target: 0 } },
      {
        figure: '3: issues without exactly one right comment',
        value: wrong,
        unit: '',
        goal: { comparison: '==', target: 0 },
      },
      {
        figure: '3: CPU per link comment, comment-relay',
        value: cpuMsOf(cpu, 'comment-relay', requirements.length),
        unit: 'ms',
      },
    );
    const loadAfter = os.loadavg();
    return [
      `### 3. One link on each of ${requirements.length.toLocaleString('en-US')} requirements at once, self-managed note limit (${SELF_MANAGED_NOTES_PER_MINUTE} creations a minute)`,
      '',
      `${requirements.length.toLocaleString('en-US')} issues seeded in one project (the simulator's bulk route), connected and imported by requirement-sync in ${seconds(importMs)}; then one PUT …/test-cases/:id per requirement, ${LINK_CONCURRENCY} in flight (all answered after ${seconds(linkedMs)}, ${(requirements.length / (linkedMs / 1000)).toFixed(0)}/s). comment-relay with GITLAB_RATE_LIMITS=self-managed, gitlab-sim limiting note creations to ${SELF_MANAGED_NOTES_PER_MINUTE} a minute per user (fixed windows), other limits off.`,
      '',
      '| comments created | time to the last | observed rate | busiest 60 s | per clock minute | 429s | issues with exactly one right comment | other note writes | link answers | answer p50 / p99 | goal |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${times.length} | ${seconds(allMs)} (floor ${seconds(limiterFloorMs(requirements.length, SELF_MANAGED_NOTES_PER_MINUTE))}) | ${rate.toFixed(1)}/min (**${share.toFixed(1)} %** of the limit) | ${busiest} | ${minutes.join(', ')} | ${tooMany} | ${right} of ${requirements.length} | ${otherWrites} | ${statusLine(statuses)} | ${ms(answers.p50)} / ${ms(answers.p99)} | ${met ? 'met' : '**NOT met**'} (≥ 90 %, ≤ ${SELF_MANAGED_NOTES_PER_MINUTE} in any 60 s, no 429, one comment per issue) |`,
      '',
      `CPU per comment (from the first link request to the last comment): ${cpuPer(cpu, requirements.length)}. Idle CPU in the 10 s before the links (comment-relay still taking in the import's requirement events), ms per second: ${idleLine(idle)}. The floor is the least time the client's spacing allows (15 at once, then one every 60 s / 285); the links' 1 s debounce comes on top. ${loadLine(loadBefore, loadAfter)}.`,
    ].join('\n');
  } finally {
    await stopBench(bench.stack);
  }
}

runBenchmark('bench:comments', async () => {
  const sections: string[] = [];
  const scenarios: Array<[string, () => Promise<string>]> = [
    ['1', linkChanges],
    ['2', defectComments],
    ['3', manyRequirements],
  ];
  for (const [name, scenario] of scenarios) {
    if (ONLY && ONLY !== name) continue;
    process.stdout.write(`scenario ${name}…\n`);
    const markdown = await scenario();
    process.stdout.write(`${markdown}\n\n`);
    sections.push(markdown);
  }
  if (ONLY) return; // a look at one scenario: RESULTS.md is left alone
  recordFigures('comments', 'comment-relay', figures);
  publishResults(
    'comment-relay',
    [
      '## comment-relay: link comments and defect comments (`npm run bench:comments`)',
      '',
      ...sections.flatMap((section) => [section, '']),
      `Every scenario starts its own stack (gitlab-sim, webhook-gateway, connection-service, requirement-sync, defect-sync, comment-relay from dist) on a fresh database and NATS prefix, all on this machine with the local Postgres and NATS (shared with other work running at the same time: the NATS figure is the whole server's). comment-relay: ${Object.entries(
        COMMENT_RELAY_ENV,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join(
          ', ',
        )}; otherwise its defaults (LANE_CONCURRENCY 4, LANE_LINGER 2s) and the test environment's DB_POOL_SIZE 5. CPU is user + system time of each process over the measured part, divided by the changes, notes or comments.`,
    ].join('\n'),
  );
});
