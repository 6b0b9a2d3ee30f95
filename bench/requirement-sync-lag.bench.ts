/**
 * `npm run bench:sync-lag` (issue 5): issue edits at BENCH_RATES edits/s (1,000, then 200 for
 * comparison) for BENCH_SECONDS (60) each, through the real path — the simulator edits issues as a
 * user (control API) and delivers the webhooks to webhook-gateway, which publishes them to
 * JetStream for requirement-sync — and the lag from the simulator's send (its deliveries log
 * `sentAt`) to (a) the committed requirement (`updatedAt` of the `upserted` event: the writing
 * transaction's time) and (b) that event arriving on NATS. Every edit sets a unique title, so lost
 * ones are counted. CPU seconds per part of the system show what limits the rate, and the
 * simulator's request log how many GitLab requests the events cost. Then (issue 13, "GitLab calls
 * per event") a bursty scenario with a second replica of requirement-sync: BENCH_BURST_ISSUES
 * issues (20) edited BENCH_BURST_EDITS times (10) each within a few seconds, so that webhooks of
 * one second cannot be ordered and GitLab is asked; it reports the reads of an issue made per
 * 1,000 events, most reads of one issue in flight at once, and whether every issue ends at its last
 * edit. Each run writes its figures to tmp/bench-sync-lag.json; BENCH_BASELINE=<such a file> (a run
 * of the code before a change, made just before) adds them as the "before" column. Results go to
 * the `requirement-sync-lag` section of bench/RESULTS.md. BENCH_CPU_PROF=<dir> has requirement-sync
 * write a CPU profile (`--cpu-prof`) there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { Pool } from 'undici';

import type { CloudEvent, RequirementUpsertedV1 } from '@testkase/contracts';
import type { RunningApp, SimApiRequest, SimDelivery } from '@testkase/testing';

import { recordFigures, type FigureInput } from './lib/goals';
import { publishResults, runBenchmark } from './lib/results';
import { cpuSnapshot, percentile, pidsOf, sleep, SyncBenchStack } from './lib/sync-stack';

const RATES = (process.env['BENCH_RATES'] ?? '1000,200').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
/** Issues edited in turn: each one at most every ISSUES / rate seconds, never twice in a second. */
const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 5_000);
/** Control-API calls in flight; each carries the edits due since the last one (at most BATCH). */
const SENDERS = 4;
const BATCH = 50;
const GOAL_P50_MS = 20;
const GOAL_P99_MS = 150;
/** CPU of the product's own processes per edit (gateway, requirement-sync, Postgres, NATS). */
const GOAL_PRODUCT_CPU_MS = 0.6;
const PRODUCT = ['webhook-gateway', 'requirement-sync', 'postgres', 'nats-server'];
const BURST_ISSUES = Number(process.env['BENCH_BURST_ISSUES'] ?? 20);
const BURST_EDITS = Number(process.env['BENCH_BURST_EDITS'] ?? 10);
/** Between two rounds of the burst (one edit of every burst issue per round). */
const BURST_STEP_MS = 250;
const RAW_FILE = path.join(process.cwd(), 'tmp', 'bench-sync-lag.json');
const ISSUE_READ_ROUTE = '/api/v4/projects/:id/issues/:issue_iid';

const now = () => performance.timeOrigin + performance.now();

interface RunResult {
  rate: number;
  sent: number;
  sendSeconds: number;
  sendErrors: number;
  lost: number;
  matched: number;
  commitLag: number[];
  publishLag: number[];
  cpu: Record<string, number>;
  seconds: number;
  /** REST requests the simulator received during the run (the integration's). */
  gitlabRequests: number;
  /** Of which reads of one issue (`GET …/issues/:iid`). */
  issueReads: number;
}

interface BurstResult {
  issues: number;
  edits: number;
  sendSeconds: number;
  issueReads: number;
  gitlabRequests: number;
  /** Most reads of one issue whose answers were not yet sent, seen at once in the simulator's log. */
  mostInFlight: number;
  lost: number;
  /** Lag from the send of each issue's last edit to its commit. */
  lastEditLag: number[];
  refetches: Record<string, number>;
  shared: Record<string, number>;
  cpu: Record<string, number>;
}

interface RawResults {
  code: string;
  at: string;
  runs: Array<Omit<RunResult, 'commitLag' | 'publishLag'> & { p50: number; p90: number; p99: number }>;
  burst: Omit<BurstResult, 'lastEditLag'> & { lagP50: number; lagMax: number };
}

async function run(
  bench: SyncBenchStack,
  project: { id: number; developer: string },
  rate: number,
  label: string,
): Promise<RunResult> {
  const seen = new Map<string, { committedAt: number; receivedAt: number }>();
  const subscription = bench.nc.subscribe(bench.subject('testkase.requirement.upserted'), {
    callback: (_error, message) => {
      const receivedAt = now();
      const event = message.json<CloudEvent<RequirementUpsertedV1>>();
      const title = event.data.requirement.title;
      if (title.startsWith(label) && !seen.has(title)) {
        seen.set(title, { committedAt: Date.parse(event.data.requirement.updatedAt), receivedAt });
      }
    },
  });
  const sentAt = new Map<string, number>();
  let collectedUntil = now();
  let collecting: Promise<void> | null = null;
  const collect = async () => {
    const deliveries: SimDelivery[] = await bench.sim.deliveries({
      project: project.id,
      since: collectedUntil,
      limit: 50_000,
    });
    for (const delivery of deliveries) {
      const title = (delivery.payload['object_attributes'] as { title?: string } | undefined)?.title;
      if (title?.startsWith(label)) sentAt.set(title, delivery.sentAt);
      collectedUntil = Math.max(collectedUntil, delivery.sentAt);
    }
  };
  const collectInBackground = () => {
    collecting ??= collect().finally(() => (collecting = null));
  };

  const database = new URL(bench.stack.environment.databaseUrl).pathname.slice(1);
  const parts = {
    'gitlab-sim': () => [bench.stack.app('gitlab-sim').pid],
    'webhook-gateway': () => [bench.stack.app('webhook-gateway').pid],
    'requirement-sync': () => [bench.stack.app('requirement-sync').pid],
    postgres: () => pidsOf('postgres', database),
    'nats-server': () => natsPids(bench),
    'benchmark driver': () => [process.pid],
  };
  const pool = new Pool(bench.stack.url('gitlab-sim'), { connections: SENDERS });
  const titles: string[] = [];
  let sendErrors = 0;
  let firstError = '';
  const queue: Array<{ iid: number; title: string }> = [];
  let producing = true;
  // One control call per batch of due edits: a call per edit would make the simulator's HTTP
  // handling, not the system under test, the busiest process (GitLab runs elsewhere).
  const sender = async () => {
    for (;;) {
      const edits = queue.splice(0, BATCH);
      if (edits.length === 0) {
        if (!producing) return;
        await sleep(1);
        continue;
      }
      try {
        const response = await pool.request({
          method: 'POST',
          path: `/__sim/projects/${project.id}/issues/edits`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ as: project.developer, edits }),
        });
        await response.body.dump();
        if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      } catch (error) {
        sendErrors += edits.length;
        firstError ||= (error as Error).message;
      }
    }
  };

  const cpuBefore = cpuSnapshot(parts);
  const started = now();
  const requestsSince = Date.now();
  const senders = Array.from({ length: SENDERS }, () => sender());
  const total = rate * SECONDS;
  let sequence = 0;
  let lastCollect = started;
  while (sequence < total) {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate));
    while (sequence < due) {
      sequence += 1;
      const title = `${label} ${sequence}`;
      titles.push(title);
      queue.push({ iid: ((sequence - 1) % ISSUES) + 1, title });
    }
    if (now() - lastCollect > 2_000) {
      lastCollect = now();
      collectInBackground();
    }
    await sleep(5);
  }
  producing = false;
  await Promise.all(senders);
  const sendSeconds = (now() - started) / 1000;
  await pool.close();
  await bench.sim.flushDeliveries();
  const deadline = now() + 60_000;
  while (now() < deadline && seen.size < titles.length - sendErrors) {
    await (collecting ?? collect());
    await sleep(500);
  }
  await (collecting ?? Promise.resolve());
  await collect();
  const seconds = (now() - started) / 1000;
  const cpuAfter = cpuSnapshot(parts);
  subscription.unsubscribe();
  if (firstError) console.log(`first send error: ${firstError}`);
  const requests = await bench.sim.apiRequests({ since: requestsSince, limit: 100_000 });

  const commitLag: number[] = [];
  const publishLag: number[] = [];
  for (const title of titles) {
    const sent = sentAt.get(title);
    const observed = seen.get(title);
    if (sent === undefined || !observed) continue;
    commitLag.push(observed.committedAt - sent);
    publishLag.push(observed.receivedAt - sent);
  }
  commitLag.sort((a, b) => a - b);
  publishLag.sort((a, b) => a - b);
  return {
    rate,
    sent: titles.length,
    sendSeconds,
    sendErrors,
    // Sent (the simulator has a delivery for it) but never seen as a committed requirement.
    lost: titles.filter((title) => sentAt.has(title) && !seen.has(title)).length,
    matched: commitLag.length,
    commitLag,
    publishLag,
    cpu: Object.fromEntries(
      Object.entries(cpuAfter).map(([name, value]) => [name, value - (cpuBefore[name] ?? 0)]),
    ),
    seconds,
    gitlabRequests: requests.length,
    issueReads: requests.filter((request) => request.method === 'GET' && request.route === ISSUE_READ_ROUTE)
      .length,
  };
}

/** A counter of requirement-sync summed over its replicas, by the values of one label. */
async function counterBy(
  apps: readonly RunningApp[],
  name: string,
  label: string,
): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const app of apps) {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const value = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '';
      totals[value] = (totals[value] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return totals;
}

const difference = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)] as const)
      .filter(([, value]) => value > 0),
  );

/**
 * Bursty edits with two replicas: every BURST_STEP_MS one edit of each of BURST_ISSUES issues (one
 * control call), BURST_EDITS rounds; several edits of one issue fall in one second.
 */
async function burst(
  bench: SyncBenchStack,
  project: { id: number; developer: string },
  replicas: readonly RunningApp[],
): Promise<BurstResult> {
  const iids = Array.from({ length: BURST_ISSUES }, (_, index) => index + 1);
  const lastTitle = new Map(iids.map((iid) => [iid, `burst ${BURST_EDITS} of ${iid}`]));
  const committed = new Map<number, number>();
  const subscription = bench.nc.subscribe(bench.subject('testkase.requirement.upserted'), {
    callback: (_error, message) => {
      const { requirement } = message.json<CloudEvent<RequirementUpsertedV1>>().data;
      const iid = requirement.external.iid;
      if (lastTitle.get(iid) === requirement.title && !committed.has(iid))
        committed.set(iid, Date.parse(requirement.updatedAt));
    },
  });
  const database = new URL(bench.stack.environment.databaseUrl).pathname.slice(1);
  const parts = {
    'gitlab-sim': () => [bench.stack.app('gitlab-sim').pid],
    'webhook-gateway': () => [bench.stack.app('webhook-gateway').pid],
    'requirement-sync': () => replicas.map((replica) => replica.pid),
    postgres: () => pidsOf('postgres', database),
    'nats-server': () => natsPids(bench),
  };
  const refetchesBefore = await counterBy(replicas, 'requirement_sync_refetches_total', 'reason');
  const sharedBefore = await counterBy(replicas, 'requirement_sync_refetches_shared_total', 'via');
  const cpuBefore = cpuSnapshot(parts);
  const since = Date.now();
  const isRead = (request: SimApiRequest) => request.method === 'GET' && request.route === ISSUE_READ_ROUTE;
  let mostInFlight = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const open = new Map<string, number>();
      for (const request of await bench.sim.apiRequests({ since, method: 'GET' })) {
        if (isRead(request) && request.status === null)
          open.set(request.path, (open.get(request.path) ?? 0) + 1);
      }
      mostInFlight = Math.max(mostInFlight, ...open.values(), 0);
      await sleep(20);
    }
  })();
  const started = now();
  for (let round = 1; round <= BURST_EDITS; round += 1) {
    const at = now();
    await bench.sim.editIssues(project.id, {
      as: project.developer,
      edits: iids.map((iid) => ({ iid, title: `burst ${round} of ${iid}` })),
    });
    await sleep(Math.max(0, BURST_STEP_MS - (now() - at)));
  }
  const sendSeconds = (now() - started) / 1000;
  await bench.sim.flushDeliveries();
  const deadline = now() + 60_000;
  while (now() < deadline && committed.size < iids.length) await sleep(200);
  // The reads still under way finish (their answers are applied) before counting.
  await sleep(2_000);
  watching = false;
  await watcher;
  const cpuAfter = cpuSnapshot(parts);
  subscription.unsubscribe();
  const sentAt = new Map<number, number>();
  for (const delivery of await bench.sim.deliveries({ project: project.id, since, limit: 50_000 })) {
    const attributes = delivery.payload['object_attributes'] as { iid?: number; title?: string } | undefined;
    if (attributes?.iid !== undefined && lastTitle.get(attributes.iid) === attributes.title)
      sentAt.set(attributes.iid, delivery.sentAt);
  }
  const requests = await bench.sim.apiRequests({ since, limit: 100_000 });
  return {
    issues: iids.length,
    edits: iids.length * BURST_EDITS,
    sendSeconds,
    issueReads: requests.filter(isRead).length,
    gitlabRequests: requests.length,
    mostInFlight,
    lost: iids.filter((iid) => !committed.has(iid)).length,
    lastEditLag: iids
      .flatMap((iid) => {
        const sent = sentAt.get(iid);
        const done = committed.get(iid);
        return sent === undefined || done === undefined ? [] : [done - sent];
      })
      .sort((a, b) => a - b),
    refetches: difference(
      await counterBy(replicas, 'requirement_sync_refetches_total', 'reason'),
      refetchesBefore,
    ),
    shared: difference(
      await counterBy(replicas, 'requirement_sync_refetches_shared_total', 'via'),
      sharedBefore,
    ),
    cpu: Object.fromEntries(
      Object.entries(cpuAfter).map(([name, value]) => [name, value - (cpuBefore[name] ?? 0)]),
    ),
  };
}

/**
 * The NATS server of the stack (the one listening on its URL's port): other nats-server processes
 * on the machine (private clusters of tests) come and go and are not part of the system under test.
 */
const natsPids = (bench: SyncBenchStack): number[] =>
  // /proc/<pid>/cmdline separates the arguments with NUL.
  pidsOf('nats-server', `\u0000-p\u0000${new URL(bench.stack.environment.natsUrl).port || '4222'}\u0000`);

const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
const perThousand = (count: number, events: number) => ((1_000 * count) / Math.max(1, events)).toFixed(1);
const productCpuMs = (cpu: Record<string, number>, edits: number) =>
  (1e3 * PRODUCT.reduce((sum, name) => sum + (cpu[name] ?? 0), 0)) / Math.max(1, edits);
const labelled = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ') || 'none';

/** What was measured: BENCH_CODE, else the commit checked out. */
function codeLabel(): string {
  if (process.env['BENCH_CODE']) return process.env['BENCH_CODE'];
  try {
    return `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return 'this checkout';
  }
}

function rawOf(results: readonly RunResult[], burstResult: BurstResult): RawResults {
  return {
    code: codeLabel(),
    at: new Date().toISOString(),
    runs: results.map(({ commitLag, publishLag: _publishLag, ...rest }) => ({
      ...rest,
      p50: percentile(commitLag, 50),
      p90: percentile(commitLag, 90),
      p99: percentile(commitLag, 99),
    })),
    burst: (({ lastEditLag, ...rest }) => ({
      ...rest,
      lagP50: percentile(lastEditLag, 50),
      lagMax: lastEditLag.at(-1) ?? Number.NaN,
    }))(burstResult),
  };
}

function readBaseline(): RawResults | null {
  const file = process.env['BENCH_BASELINE'];
  if (!file) return null;
  if (!existsSync(file)) throw new Error(`BENCH_BASELINE ${file} does not exist`);
  return JSON.parse(readFileSync(file, 'utf8')) as RawResults;
}

/**
 * BENCH_CPU_PROF=<dir>: requirement-sync (each replica) writes a V8 CPU profile there when it exits,
 * as `--cpu-prof` would (which NODE_OPTIONS does not allow): a preloaded inspector session.
 */
function profilingEnv(): Record<string, string> {
  const dir = process.env['BENCH_CPU_PROF'];
  if (!dir) return {};
  mkdirSync(path.resolve(dir), { recursive: true });
  const preload = path.resolve(dir, 'cpu-profile-preload.cjs');
  writeFileSync(
    preload,
    `const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) fs.writeFileSync(${JSON.stringify(path.resolve(dir))} + '/' + process.pid + '.cpuprofile', JSON.stringify(result.profile));
  });
});
`,
  );
  return { NODE_OPTIONS: `--require ${preload}` };
}

async function main(): Promise<void> {
  const baseline = readBaseline();
  const bench = await SyncBenchStack.start('bench_lag', profilingEnv());
  try {
    const project = await bench.project({ count: ISSUES });
    // The backfill's upserts travel in `upserted_batch` messages (docs/ARCHITECTURE.md): their
    // items count, with any single `upserted` events.
    let batchedItems = 0;
    const batches = bench.nc.subscribe(bench.subject('testkase.requirement.upserted_batch'), {
      callback: (_error, message) => {
        batchedItems += message.json<CloudEvent<{ items: unknown[] }>>().data.items.length;
      },
    });
    await bench.connect('bench-lag', { ...project });
    while (
      batchedItems + (await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted')) <
      ISSUES
    )
      await sleep(200);
    batches.unsubscribe();
    const results: RunResult[] = [];
    for (const [index, rate] of RATES.entries()) {
      console.log(`${rate} edits/s for ${SECONDS} s…`);
      const result = await run(bench, project, rate, `lag${index}`);
      console.log({ ...result, commitLag: undefined, publishLag: undefined });
      results.push(result);
      await sleep(5_000);
    }
    console.log(`bursts: ${BURST_ISSUES} issues × ${BURST_EDITS} edits, two replicas…`);
    const replicas = [
      bench.stack.app('requirement-sync'),
      await bench.stack.startReplica('requirement-sync', { GRPC_PORT: '0' }),
    ];
    const burstResult = await burst(bench, project, replicas);
    console.log({ ...burstResult, lastEditLag: undefined });
    const raw = rawOf(results, burstResult);
    mkdirSync(path.dirname(RAW_FILE), { recursive: true });
    writeFileSync(RAW_FILE, JSON.stringify(raw, null, 2));
    const before = (rate: number) => baseline?.runs.find((run) => run.rate === rate);
    const lines = [
      `Issue edits over ${ISSUES.toLocaleString('en-US')} issues (each edited at most every ${ISSUES / Math.max(...RATES)} s), through gitlab-sim → webhook-gateway → JetStream → requirement-sync → outbox → JetStream, everything on this machine; the driver hands the simulator the edits due every few milliseconds in one control-API call (at most ${BATCH}, ${SENDERS} calls in flight), and the simulator delivers each edit's webhook on its own, as GitLab does. Code: ${raw.code}${baseline ? `; "before": ${baseline.code}, run ${baseline.at.slice(0, 16).replace('T', ' ')} UTC on this machine just before` : ''}.`,
      '',
      '| Rate | Edits (send time) | Lag to the committed requirement p50 / p90 / p99 / max | Lag to its `upserted` event on NATS p50 / p99 | Lost | Send errors | GitLab requests per 1,000 events (issue reads) | Product CPU per edit |',
      '|---|---|---|---|---:|---:|---:|---:|',
      ...(baseline?.runs ?? []).map(
        (r) =>
          `| before: ${r.rate}/s | ${r.sent.toLocaleString('en-US')} (${r.sendSeconds.toFixed(0)} s) | ${ms(r.p50)} / ${ms(r.p90)} / ${ms(r.p99)} / – | – | ${r.lost} | ${r.sendErrors} | ${perThousand(r.gitlabRequests, r.sent)} (${perThousand(r.issueReads, r.sent)}) | ${productCpuMs(r.cpu, r.sent).toFixed(2)} ms |`,
      ),
      ...results.map(
        (r) =>
          `| ${r.rate}/s | ${r.sent.toLocaleString('en-US')} (${r.sendSeconds.toFixed(0)} s) | **${ms(percentile(r.commitLag, 50))}** / ${ms(percentile(r.commitLag, 90))} / **${ms(percentile(r.commitLag, 99))}** / ${ms(r.commitLag.at(-1) ?? Number.NaN)} | ${ms(percentile(r.publishLag, 50))} / ${ms(percentile(r.publishLag, 99))} | ${r.lost} | ${r.sendErrors} | ${perThousand(r.gitlabRequests, r.sent)} (${perThousand(r.issueReads, r.sent)}) | **${productCpuMs(r.cpu, r.sent).toFixed(2)} ms** |`,
      ),
      '',
      ...results.map(
        (r) =>
          `- ${r.rate}/s: CPU seconds over ${r.seconds.toFixed(0)} s (${(Object.values(r.cpu).reduce((a, b) => a + b, 0) / r.seconds).toFixed(2)} of 2 cores busy on average): ${Object.entries(
            r.cpu,
          )
            .map(
              ([name, seconds]) =>
                `${name} ${seconds.toFixed(1)} (${((1e6 * seconds) / r.sent).toFixed(0)} µs per edit${before(r.rate) ? `, before ${((1e6 * (before(r.rate)?.cpu[name] ?? 0)) / (before(r.rate)?.sent ?? 1)).toFixed(0)}` : ''})`,
            )
            .join(', ')}.`,
      ),
      '',
      ...results.map(
        (r) =>
          `- Goals at ${r.rate}/s: p50 ≤ ${GOAL_P50_MS} ms → ${percentile(r.commitLag, 50) <= GOAL_P50_MS ? 'met' : '**missed**'}; p99 ≤ ${GOAL_P99_MS} ms → ${percentile(r.commitLag, 99) <= GOAL_P99_MS ? 'met' : '**missed**'}; ≤ ${GOAL_PRODUCT_CPU_MS} ms of CPU per edit in gateway, requirement-sync, Postgres and NATS → ${productCpuMs(r.cpu, r.sent) <= GOAL_PRODUCT_CPU_MS ? 'met' : '**missed**'}; none lost → ${r.lost === 0 ? 'met' : '**missed**'}.`,
      ),
      `- Peak RSS of requirement-sync: ${Math.round(bench.peakRssMiB('requirement-sync'))} MiB.`,
      '',
      `### Bursty edits, two replicas of requirement-sync`,
      '',
      `${burstResult.issues} issues, each edited ${BURST_EDITS} times in ${burstResult.sendSeconds.toFixed(1)} s (one edit of every issue every ${BURST_STEP_MS} ms, so three or four edits of an issue share a second of GitLab's second-precise webhook times), with a second replica of requirement-sync on the same database and consumers.`,
      '',
      '| Code | Events | Reads of an issue (per 1,000 events) | All GitLab requests | Most reads of one issue in flight | Refetches by reason | Settled without a read of their own | Issues not at their last edit | Lag of the last edit p50 / max | Product CPU per edit |',
      '|---|---:|---:|---:|---:|---|---|---:|---|---:|',
      ...[
        ...(baseline ? [{ code: `before (${baseline.code})`, b: baseline.burst }] : []),
        { code: raw.code, b: raw.burst },
      ].map(
        ({ code, b }) =>
          `| ${code} | ${b.edits} | ${b.issueReads} (${perThousand(b.issueReads, b.edits)}) | ${b.gitlabRequests} | ${b.mostInFlight} | ${labelled(b.refetches)} | ${labelled(b.shared)} | ${b.lost} | ${ms(b.lagP50)} / ${ms(b.lagMax)} | ${productCpuMs(b.cpu, b.edits).toFixed(2)} ms |`,
      ),
    ];
    publishResults('requirement-sync-lag', lines.join('\n'));
    const calmest = results.find((r) => r.rate === Math.min(...RATES));
    const PRODUCT = ['webhook-gateway', 'requirement-sync', 'postgres', 'nats-server'];
    const perEditMs = (r: RunResult, names: string[]) =>
      (1e3 * names.reduce((sum, name) => sum + (r.cpu[name] ?? 0), 0)) / r.sent;
    const cpuText = (r: RunResult) =>
      `its processes kept ${(Object.values(r.cpu).reduce((a, b) => a + b, 0) / r.seconds).toFixed(2)} of 2 cores busy on average; CPU per edit: ${Object.entries(
        r.cpu,
      )
        .map(([name, seconds]) => `${name} ${((1e6 * seconds) / r.sent).toFixed(0)} µs`)
        .join(', ')}`;
    recordFigures(
      'sync-lag',
      'requirement-sync-lag',
      results
        .flatMap((r): FigureInput[] => {
          const baseline =
            calmest && calmest !== r
              ? (value: number, unit: string) => ({ value, unit, what: `the same path at ${calmest.rate}/s` })
              : undefined;
          const limits = `the cores the whole path shares, simulator and driver included: ${cpuText(r)}`;
          return [
            {
              figure: `${r.rate}/s: lag to the committed requirement, p50`,
              value: percentile(r.commitLag, 50),
              unit: 'ms',
              goal: { comparison: '<=', target: GOAL_P50_MS, source: 'issue 13' },
              ...(baseline ? { baseline: baseline(percentile(calmest!.commitLag, 50), 'ms') } : {}),
              limits,
            },
            {
              figure: `${r.rate}/s: lag to the committed requirement, p99`,
              value: percentile(r.commitLag, 99),
              unit: 'ms',
              goal: { comparison: '<=', target: 150, source: 'issue 13' },
              ...(baseline ? { baseline: baseline(percentile(calmest!.commitLag, 99), 'ms') } : {}),
              limits,
            },
            {
              figure: `${r.rate}/s: edits lost`,
              value: r.lost,
              unit: '',
              goal: { comparison: '==', target: 0, source: 'issue 5' },
              ...(r.lost
                ? {
                    limits: `counted as lost: sent by the simulator but not committed within the bench's wait (up to 60 s after the last send), while the lag of the edits seen reached ${ms(r.commitLag.at(-1) ?? Number.NaN)} at most`,
                  }
                : {}),
            },
            {
              figure: `${r.rate}/s: CPU per edit, gateway + requirement-sync + Postgres + NATS`,
              value: perEditMs(r, PRODUCT),
              unit: 'ms',
              ...(r.rate === Math.max(...RATES)
                ? { goal: { comparison: '<=', target: 0.6, source: 'issue 13' } }
                : {}),
              limits: cpuText(r),
            },
            {
              figure: `${r.rate}/s: GitLab requests per 1,000 events`,
              value: (1_000 * r.gitlabRequests) / Math.max(1, r.sent),
              unit: '',
            },
            {
              figure: `${r.rate}/s: CPU per edit, simulator + driver (reported apart)`,
              value: perEditMs(r, ['gitlab-sim', 'benchmark driver']),
              unit: 'ms',
            },
          ];
        })
        .concat({
          figure: 'peak RSS of requirement-sync',
          value: bench.peakRssMiB('requirement-sync'),
          unit: 'MiB',
          goal: { comparison: '<=', target: 150, source: 'issue 13' },
        }),
    );
  } finally {
    await bench.stop();
  }
}

runBenchmark('bench:sync-lag', main);
