/**
 * `npm run bench:backfill` (issue 5): a project with 50,000 issues is connected through
 * connection-service and backfilled by requirement-sync, the whole stack running from dist on this
 * machine (gitlab-sim, webhook-gateway, connection-service, requirement-sync, Postgres, NATS).
 *   A. simulator rate limits off: issues/s end to end, to the last requirement committed (the
 *      `completed` progress event's time) and to the last `upserted` event stored in JetStream;
 *   B. the simulator's GitLab.com preset (2,000 requests/min per user): the same, the 429s, and the
 *      share of the rate the limit allows (2,000 pages of 100 issues a minute);
 *   C. a limit that binds during the run (BENCH_BINDING_RPM requests/min, BENCH_BINDING_ISSUES
 *      issues, started on a minute boundary as the simulator's windows are): requests per full
 *      window against the limit, and the 429s;
 * and requirement-sync's peak RSS (VmHWM). Results go to the `requirement-sync-backfill` section
 * of bench/RESULTS.md. With `--tenants`, many connections at once instead (bench/lib/backfill-tenants.ts).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';

import type { BackfillProgressReportedV1, CloudEvent } from '@testkase/contracts';

import { runTenants } from './lib/backfill-tenants';
import { recordFigures } from './lib/goals';
import { publishResults, runBenchmark } from './lib/results';
import { cpuSnapshot, pidsOf, sleep, SyncBenchStack } from './lib/sync-stack';

const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 50_000);
const BINDING_RPM = Number(process.env['BENCH_BINDING_RPM'] ?? 100);
const BINDING_ISSUES = Number(process.env['BENCH_BINDING_ISSUES'] ?? 25_000);
/** Extra Node options for requirement-sync (e.g. `--max-semi-space-size=64`), to compare settings. */
const RS_NODE_OPTIONS = process.env['BENCH_RS_NODE_OPTIONS'] ?? '';
/** `A` or `C` runs only that run (quick comparisons; RESULTS.md is left alone). */
const ONLY = process.env['BENCH_ONLY'];
/**
 * Earlier builds to measure in the same run, before this one: `label=dir,…`, each dir a checkout of
 * this repository built with `npm run build` (e.g. `git archive <commit> | tar -x -C dir`, with
 * node_modules linked). Each runs its own run A; the table goes to RESULTS.md with this build's.
 */
const COMPARE = (process.env['BENCH_COMPARE'] ?? '')
  .split(',')
  .filter(Boolean)
  .map((entry) => {
    const [label = entry, dir = ''] = entry.split('=');
    return { label, dir };
  });
const GOAL_ISSUES_PER_S = 5_000;
const GOAL_CPU_MS_PER_ISSUE = 0.35;
const GITLAB_COM_RPM = 2_000;
const cores = cpus().length;

interface Run {
  label: string;
  issues: number;
  committedS: number;
  publishedS: number;
  requests: number;
  throttled: number;
  windows: number[];
  /** CPU seconds each part of the system spent during the run. */
  cpu: Record<string, number>;
}

/** The issue list, the one route a backfill calls (besides one estimate). */
const API_ROUTES = '/api/v4/projects/:id/issues';

async function backfill(
  bench: SyncBenchStack,
  label: string,
  issues: number,
  limits: Parameters<SyncBenchStack['sim']['setRateLimits']>[0],
  options: { alignToMinute?: boolean; windowMs?: number } = {},
): Promise<Run> {
  const project = await bench.project({
    count: issues,
    closedPercent: 20,
    confidentialPercent: 10,
    priorityLabelsPercent: 40,
    labels: ['area::checkout'],
    descriptionTemplate: 'As a **buyer** I want feature {{n}}. See [the spec](/uploads/spec-{{n}}.pdf).',
  });
  const projectId = `bench-${label}`;
  await bench.sim.setRateLimits({ preset: 'off' });
  const factor = await bench.requestCountFactor(project);
  console.log(`${label}: the simulator counts each list request ${factor} time(s)`);
  await bench.sim.setRateLimits(limits);
  const upsertedBefore = await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted');
  // A backfill's upserts travel in `upserted_batch` messages (docs/ARCHITECTURE.md): their items count.
  let batchedItems = 0;
  const batches = bench.nc.subscribe(bench.subject('testkase.requirement.upserted_batch'), {
    callback: (_error, message) => {
      batchedItems += message.json<CloudEvent<{ items: unknown[] }>>().data.items.length;
    },
  });
  const completed = new Promise<BackfillProgressReportedV1>((resolve) => {
    bench.nc.subscribe(bench.subject('integration.requirement.backfill_progress'), {
      callback: (_error, message) => {
        const event = message.json<CloudEvent<BackfillProgressReportedV1>>();
        if (event.data.projectId === projectId && event.data.state === 'completed') resolve(event.data);
      },
    });
  });
  if (options.alignToMinute) {
    // The simulator counts in fixed one-minute windows of its clock (real time here).
    await sleep(60_000 - (Date.now() % 60_000) + 50);
  }
  const requestsBefore = await bench.simCounter('gitlab_sim_http_requests_total', { route: API_ROUTES });
  const throttledBefore = await bench.simCounter('gitlab_sim_http_requests_total', { status: '429' });
  const database = new URL(bench.stack.environment.databaseUrl).pathname.slice(1);
  const parts = {
    'gitlab-sim': () => [bench.stack.app('gitlab-sim').pid],
    'requirement-sync': () => [bench.stack.app('requirement-sync').pid],
    'connection-service + gateway': () => [
      bench.stack.app('connection-service').pid,
      bench.stack.app('webhook-gateway').pid,
    ],
    postgres: () => pidsOf('postgres', database),
    'nats-server': () => pidsOf('nats-server'),
  };
  const cpuBefore = cpuSnapshot(parts);
  const started = Date.now();
  const windows: number[] = [];
  let windowStart = requestsBefore;
  const windowTimer = options.windowMs
    ? setInterval(() => {
        void bench.simCounter('gitlab_sim_http_requests_total', { route: API_ROUTES }).then((count) => {
          windows.push((count - windowStart) / factor);
          windowStart = count;
        });
      }, options.windowMs)
    : undefined;
  await bench.connect(projectId, project);
  const done = await completed;
  clearInterval(windowTimer);
  const committedS = (Date.parse(done.finishedAt ?? new Date().toISOString()) - started) / 1000;
  while (
    (await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted')) + batchedItems <
    upsertedBefore + issues
  ) {
    await sleep(50);
  }
  batches.unsubscribe();
  const publishedS = (Date.now() - started) / 1000;
  const cpuAfter = cpuSnapshot(parts);
  return {
    cpu: Object.fromEntries(
      Object.entries(cpuAfter).map(([name, seconds]) => [name, seconds - (cpuBefore[name] ?? 0)]),
    ),
    label,
    issues,
    committedS,
    publishedS,
    requests:
      ((await bench.simCounter('gitlab_sim_http_requests_total', { route: API_ROUTES })) - requestsBefore) /
      factor,
    throttled:
      (await bench.simCounter('gitlab_sim_http_requests_total', { status: '429' })) - throttledBefore,
    windows,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Comparison {
  label: string;
  committedS: number;
  cpu: Record<string, number>;
}

/** Run A of another build (its own bench, BENCH_ONLY=A), read from what it prints. */
function runOtherBuild(label: string, dir: string): Comparison {
  const output = execFileSync(
    process.execPath,
    [path.join(dir, 'dist', 'bench', 'requirement-sync-backfill.bench.js')],
    { env: { ...process.env, BENCH_ONLY: 'A', BENCH_COMPARE: '' }, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const committedS = Number(/committedS: ([\d.]+)/.exec(output)?.[1]);
  const cpuText = /cpu: \{([^}]*)\}/.exec(output)?.[1] ?? '';
  const cpu = Object.fromEntries(
    [...cpuText.matchAll(/'?([\w +-]+?)'?: ([\d.e-]+)/g)].map((match) => [
      match[1]?.trim() ?? '',
      Number(match[2]),
    ]),
  );
  if (!Number.isFinite(committedS))
    throw new Error(`${label}: no run A in its output:\n${output.slice(-2_000)}`);
  return { label, committedS, cpu };
}

const msPerIssue = (cpu: Record<string, number>, issues: number, part?: string): number =>
  (1000 * (part === undefined ? Object.values(cpu).reduce((a, b) => a + b, 0) : (cpu[part] ?? 0))) / issues;

async function main(): Promise<void> {
  const bench = await SyncBenchStack.start('bench_backfill', {
    DB_POOL_SIZE: '10',
    ...(RS_NODE_OPTIONS ? { NODE_OPTIONS: RS_NODE_OPTIONS } : {}),
  });
  try {
    if (ONLY === 'C') {
      console.log(
        await backfill(
          bench,
          'binding',
          BINDING_ISSUES,
          { preset: 'gitlab.com', requestsPerMinute: BINDING_RPM },
          { alignToMinute: true, windowMs: 60_000 },
        ),
      );
      return;
    }
    const comparisons: Comparison[] = [];
    for (const { label, dir } of COMPARE) {
      console.log(`A with ${label} (${dir})…`);
      comparisons.push(runOtherBuild(label, dir));
      console.log(comparisons.at(-1));
    }
    console.log(`A: ${ISSUES} issues, simulator limits off…`);
    const open = await backfill(bench, 'open', ISSUES, { preset: 'off' });
    const peakRss = bench.peakRssMiB('requirement-sync');
    const loadAfterA = loadavg()[0] ?? 0;
    console.log(open, `peak RSS ${fmt(peakRss)} MiB`);
    if (ONLY === 'A') return;

    console.log(`B: ${ISSUES} issues, GitLab.com preset…`);
    const gitlabCom = await backfill(bench, 'gitlabcom', ISSUES, { preset: 'gitlab.com' });
    console.log(gitlabCom);

    console.log(`C: ${BINDING_ISSUES} issues at ${BINDING_RPM} requests/min…`);
    const binding = await backfill(
      bench,
      'binding',
      BINDING_ISSUES,
      { preset: 'gitlab.com', requestsPerMinute: BINDING_RPM },
      { alignToMinute: true, windowMs: 60_000 },
    );
    console.log(binding);

    const rate = (run: Run, seconds: number) => run.issues / seconds;
    const allowedIssuesPerS = (GITLAB_COM_RPM * 100) / 60;
    const utilisation = binding.windows.map((count) => count / BINDING_RPM);
    const rsCpu = open.cpu['requirement-sync'] ?? 0;
    const rsMsPerIssue = (1000 * rsCpu) / open.issues;
    const totalMsPerIssue = (1000 * Object.values(open.cpu).reduce((a, b) => a + b, 0)) / open.issues;
    const lines = [
      `Backfill of a project through the whole stack (gitlab-sim, webhook-gateway, connection-service, requirement-sync, Postgres, NATS on this machine); issues: 20% closed, 10% confidential, 40% with a priority label, a Markdown description each.`,
      '',
      '| Run | Issues | To last commit | issues/s | To last event in JetStream | issues/s | GitLab requests | 429s |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...[open, gitlabCom, binding].map(
        (run) =>
          `| ${run.label === 'open' ? 'A. limits off' : run.label === 'gitlabcom' ? 'B. GitLab.com preset (2,000/min)' : `C. ${BINDING_RPM} requests/min`} | ${fmt(run.issues)} | ${fmt(run.committedS, 1)} s | **${fmt(rate(run, run.committedS))}** | ${fmt(run.publishedS, 1)} s | ${fmt(rate(run, run.publishedS))} | ${fmt(run.requests)} | ${fmt(run.throttled)} |`,
      ),
      '',
      ...(comparisons.length === 0
        ? []
        : [
            `Run A of earlier builds in the same run, before this one (CPU ms per issue):`,
            '',
            '| Build | issues/s to last commit | all processes | requirement-sync | postgres | nats-server | gitlab-sim |',
            '|---|---:|---:|---:|---:|---:|---:|',
            ...[...comparisons, { label: 'this build', committedS: open.committedS, cpu: open.cpu }].map(
              (run) =>
                `| ${run.label} | ${fmt(ISSUES / run.committedS)} | ${fmt(msPerIssue(run.cpu, ISSUES), 3)} | ${fmt(msPerIssue(run.cpu, ISSUES, 'requirement-sync'), 3)} | ${fmt(msPerIssue(run.cpu, ISSUES, 'postgres'), 3)} | ${fmt(msPerIssue(run.cpu, ISSUES, 'nats-server'), 3)} | ${fmt(msPerIssue(run.cpu, ISSUES, 'gitlab-sim'), 3)} |`,
            ),
            '',
          ]),
      `- Goal A: ≥ ${fmt(GOAL_ISSUES_PER_S)} issues/s → ${rate(open, open.committedS) >= GOAL_ISSUES_PER_S ? 'met' : '**missed**'} (${fmt(rate(open, open.committedS))} issues/s to the last commit).`,
      `- B: the GitLab.com preset allows ${fmt(GITLAB_COM_RPM)} requests/min = ${fmt(allowedIssuesPerS)} issues/s (pages of 100); the run reached ${fmt((100 * rate(gitlabCom, gitlabCom.committedS)) / allowedIssuesPerS)} % of that with ${fmt(gitlabCom.throttled)} 429s. ${fmt(gitlabCom.requests)} requests fit in one window, so the limit did not bind: B runs at A's pace.`,
      `- C: requests per full one-minute window: ${binding.windows.map((count) => fmt(count)).join(', ')} against a limit of ${BINDING_RPM} (${utilisation.map((u) => `${fmt(100 * u)} %`).join(', ')} of the allowed rate), ${fmt(binding.throttled)} 429s.`,
      `- Load average of the machine after A: ${fmt(loadAfterA, 1)} on ${cores} cores (other work on them lowers every rate here; the CPU per issue is the figure to compare, and BENCH_COMPARE measures earlier builds in the same run).`,
      `- Peak RSS of requirement-sync during A: ${fmt(peakRss)} MiB.`,
      `- Goal CPU: ≤ ${fmt(GOAL_CPU_MS_PER_ISSUE, 2)} ms per issue across all processes → ${totalMsPerIssue <= GOAL_CPU_MS_PER_ISSUE ? 'met' : '**missed**'} (${fmt(totalMsPerIssue, 3)} ms; nats-server is shared with whatever else runs on the machine, so its share is an upper bound).`,
      `- What limits A: one connection's backfill is one job on one thread, fetching GitLab's keyset pages one after the other (the next page's link comes with the page). requirement-sync spent ${fmt(rsMsPerIssue, 3)} ms of CPU per issue and was busy ${fmt((100 * rsCpu) / open.publishedS)} % of the run: it is no longer saturated, the run waits on the chain page fetch → map → one transaction per batch of pages. A CPU profile of requirement-sync during A (2026-12-04, this build) splits its busy time into garbage collection 19 %, the Postgres driver (encoding the rows and the outbox arrays, parsing the RETURNING rows) 20 %, mapping 25 % (Markdown rendering 13 % of it, now without the sanitizer pass for most descriptions), GitLab HTTP and JSON parsing 14 %, building the events and outbox rows 9 %, the relay 2 %. The whole system needed ${fmt(totalMsPerIssue, 3)} ms of CPU per issue, so these ${cores} cores cap it at about ${fmt((cores * 1000) / totalMsPerIssue)} issues/s; on a machine shared with other work (as when this ran) the run gets less.`,
      `- CPU seconds spent during A (${fmt(open.publishedS, 1)} s of wall time on ${cores} cores): ${Object.entries(
        open.cpu,
      )
        .map(([name, seconds]) => `${name} ${fmt(seconds, 1)}`)
        .join(
          ', ',
        )}; per 1,000 issues: ${fmt((1000 * Object.values(open.cpu).reduce((a, b) => a + b, 0)) / open.issues, 2)} CPU s in total, ${fmt((1000 * (open.cpu['requirement-sync'] ?? 0)) / open.issues, 2)} in requirement-sync.`,
    ];
    publishResults('requirement-sync-backfill', lines.join('\n'));
    const ceiling = `requirement-sync spent ${fmt(rsMsPerIssue, 2)} ms of CPU per issue, busy ${fmt((100 * rsCpu) / open.publishedS)} % of the run (a ceiling of about ${fmt(1000 / rsMsPerIssue)} issues/s for one connection's backfill, one job on one thread); all processes ${fmt(totalMsPerIssue, 2)} ms per issue, so ${cores} cores cap it at about ${fmt((cores * 1000) / totalMsPerIssue)} issues/s (CPU s: ${Object.entries(
      open.cpu,
    )
      .map(([name, seconds]) => `${name} ${fmt(seconds, 1)}`)
      .join(', ')})`;
    recordFigures('backfill', 'requirement-sync-backfill', [
      {
        figure: `A: issues/s to the last commit (${fmt(ISSUES)} issues, limits off)`,
        value: rate(open, open.committedS),
        unit: 'issues/s',
        goal: { comparison: '>=', target: GOAL_ISSUES_PER_S, source: 'issue 13' },
        limits: ceiling,
      },
      {
        figure: 'A: CPU per issue, all processes',
        value: totalMsPerIssue,
        unit: 'ms',
        goal: { comparison: '<=', target: 0.35, source: 'issue 13' },
        limits: ceiling,
      },
      { figure: 'A: CPU per issue, requirement-sync', value: rsMsPerIssue, unit: 'ms' },
      {
        figure: 'B: issues/s to the last commit, GitLab.com preset',
        value: rate(gitlabCom, gitlabCom.committedS),
        unit: 'issues/s',
        baseline: {
          value: allowedIssuesPerS,
          unit: 'issues/s',
          what: 'what 2,000 requests/min of 100 issues allow',
        },
      },
      {
        figure: 'B + C: 429s from GitLab',
        value: gitlabCom.throttled + binding.throttled,
        unit: '',
        goal: { comparison: '==', target: 0 },
      },
      {
        figure: `C: least share of a full window's allowed requests (${BINDING_RPM}/min)`,
        value: utilisation.length ? 100 * Math.min(...utilisation) : Number.NaN,
        unit: '%',
        baseline: { value: BINDING_RPM, unit: 'requests/min', what: 'the limit' },
      },
      {
        figure: 'peak RSS of requirement-sync during A',
        value: peakRss,
        unit: 'MiB',
        goal: { comparison: '<=', target: 150, source: 'issue 13' },
      },
    ]);
  } finally {
    await bench.stop();
  }
}

runBenchmark('bench:backfill', process.argv.includes('--tenants') ? runTenants : main);
