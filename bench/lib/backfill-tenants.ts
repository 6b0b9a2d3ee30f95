/**
 * `npm run bench:backfill -- --tenants` (issue 13, "Many tenants at once"): 200 connections made at
 * the same moment (BENCH_LARGE projects of BENCH_LARGE_ISSUES issues, BENCH_SMALL of
 * BENCH_SMALL_ISSUES), backfilled by one requirement-sync, then (a new set of projects) by two
 * replicas. Reported: when the last small project and the last large one were fully imported, the
 * total rate against one connection's backfill of the same number of issues in the same run, the
 * CPU per issue, and each replica's share of the imported issues. Results go to the
 * `requirement-sync-backfill-tenants` section of bench/RESULTS.md.
 */
import type { BackfillProgressReportedV1, CloudEvent } from '@testkase/contracts';

import { recordFigures } from './goals';
import { publishResults } from './results';
import { cpuSnapshot, pidsOf, sleep, SyncBenchStack } from './sync-stack';

const LARGE = Number(process.env['BENCH_LARGE'] ?? 50);
const LARGE_ISSUES = Number(process.env['BENCH_LARGE_ISSUES'] ?? 1_000);
const SMALL = Number(process.env['BENCH_SMALL'] ?? 150);
const SMALL_ISSUES = Number(process.env['BENCH_SMALL_ISSUES'] ?? 100);
const GOAL_SMALL_S = 10;
const CONNECT_PARALLELISM = Number(process.env['BENCH_CONNECT_PARALLELISM'] ?? 5);
const GOAL_RATE_SHARE = 0.9;
const ISSUES = LARGE * LARGE_ISSUES + SMALL * SMALL_ISSUES;

const seed = (count: number) => ({
  count,
  closedPercent: 20,
  confidentialPercent: 10,
  priorityLabelsPercent: 40,
  labels: ['area::checkout'],
  descriptionTemplate: 'As a **buyer** I want feature {{n}}. See [the spec](/uploads/spec-{{n}}.pdf).',
});

interface Outcome {
  label: string;
  /** Until every connect request was answered. */
  connectsS: number;
  /** The longest a small project took from its connect's answer to its last commit. */
  smallAfterConnectS: number;
  lastSmallS: number;
  lastLargeS: number;
  totalS: number;
  /** Imported issues per requirement-sync process during the run. */
  perReplica: number[];
  cpu: Record<string, number>;
}

type Project = Awaited<ReturnType<SyncBenchStack['project']>>;

/** Sum of requirement_sync_backfill_issues_total of one requirement-sync process. */
async function importedBy(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (/^requirement_sync_backfill_issues_total(\{| )/.test(line))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/**
 * Every project connected at once, as TestKase core would on a busy morning: CONNECT_PARALLELISM
 * requests in flight (connection-service checks each token with GitLab and holds a database
 * connection meanwhile), a request it could not serve (5xx) asked again.
 */
async function connectAll(
  bench: SyncBenchStack,
  projects: ReadonlyArray<{ key: string; project: Project }>,
  connectedAt: Map<string, number>,
): Promise<void> {
  const queue = [...projects];
  await Promise.all(
    Array.from({ length: CONNECT_PARALLELISM }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await bench.connect(next.key, next.project);
            connectedAt.set(next.key, Date.now());
            break;
          } catch (error) {
            if (attempt >= 10 || !/answered 5\d\d/.test(String(error))) throw error;
            await sleep(500 * attempt);
          }
        }
      }
    }),
  );
}

/** Connects every project at once and waits for all their backfills to complete. */
async function backfillAll(
  bench: SyncBenchStack,
  label: string,
  projects: Array<{ key: string; project: Project; small: boolean }>,
): Promise<Outcome> {
  const finished = new Map<string, number>();
  const wanted = new Set(projects.map(({ key }) => key));
  const all = new Promise<void>((resolve) => {
    bench.nc.subscribe(bench.subject('integration.requirement.backfill_progress'), {
      callback: (_error, message) => {
        const { data } = message.json<CloudEvent<BackfillProgressReportedV1>>();
        if (!wanted.has(data.projectId) || data.state !== 'completed' || finished.has(data.projectId)) return;
        finished.set(data.projectId, Date.parse(data.finishedAt ?? new Date().toISOString()));
        if (finished.size === wanted.size) resolve();
      },
    });
  });
  const replicas = () => [bench.stack.app('requirement-sync'), ...bench.stack.replicas];
  const database = new URL(bench.stack.environment.databaseUrl).pathname.slice(1);
  const parts = {
    'gitlab-sim': () => [bench.stack.app('gitlab-sim').pid],
    'requirement-sync': () => replicas().map((app) => app.pid),
    'connection-service + gateway': () => [
      bench.stack.app('connection-service').pid,
      bench.stack.app('webhook-gateway').pid,
    ],
    postgres: () => pidsOf('postgres', database),
    'nats-server': () => pidsOf('nats-server'),
  };
  const importedBefore = await Promise.all(replicas().map((app) => importedBy(app.url)));
  const cpuBefore = cpuSnapshot(parts);
  const started = Date.now();
  const connectedAt = new Map<string, number>();
  await connectAll(bench, projects, connectedAt);
  const connectsS = (Date.now() - started) / 1000;
  await all;
  const cpuAfter = cpuSnapshot(parts);
  const importedAfter = await Promise.all(replicas().map((app) => importedBy(app.url)));
  const last = (small: boolean) =>
    Math.max(...projects.filter((p) => p.small === small).map((p) => finished.get(p.key) ?? Date.now())) -
    started;
  const sinceConnect = projects
    .filter((p) => p.small)
    .map((p) => ((finished.get(p.key) ?? Date.now()) - (connectedAt.get(p.key) ?? started)) / 1000);
  return {
    label,
    connectsS,
    smallAfterConnectS: sinceConnect.length === 0 ? 0 : Math.max(...sinceConnect),
    lastSmallS: last(true) / 1000,
    lastLargeS: last(false) / 1000,
    totalS: (Math.max(...finished.values()) - started) / 1000,
    perReplica: importedAfter.map((count, index) => count - (importedBefore[index] ?? 0)),
    cpu: Object.fromEntries(
      Object.entries(cpuAfter).map(([name, seconds]) => [name, seconds - (cpuBefore[name] ?? 0)]),
    ),
  };
}

async function tenantProjects(bench: SyncBenchStack, round: string) {
  const projects: Array<{ key: string; project: Project; small: boolean }> = [];
  for (let index = 0; index < LARGE + SMALL; index += 1) {
    const small = index >= LARGE;
    const project = await bench.project(seed(small ? SMALL_ISSUES : LARGE_ISSUES));
    projects.push({ key: `tenants-${round}-${small ? 's' : 'l'}${index}`, project, small });
  }
  return projects;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function runTenants(): Promise<void> {
  const bench = await SyncBenchStack.start('bench_tenants', { DB_POOL_SIZE: '10' });
  try {
    console.log(`one connection of ${ISSUES} issues…`);
    const single = await backfillAll(bench, 'one connection', [
      { key: 'tenants-single', project: await bench.project(seed(ISSUES)), small: false },
    ]);
    console.log(single);
    console.log(`${LARGE + SMALL} connections at once, one replica…`);
    const one = await backfillAll(bench, 'one replica', await tenantProjects(bench, 'a'));
    console.log(one);
    const projects = await tenantProjects(bench, 'b');
    await bench.stack.startReplica('requirement-sync');
    await sleep(1_000);
    console.log(`${LARGE + SMALL} connections at once, two replicas…`);
    const two = await backfillAll(bench, 'two replicas', projects);
    console.log(two);

    const rate = (outcome: Outcome) => ISSUES / outcome.totalS;
    const cpuMs = (outcome: Outcome) =>
      (1000 * Object.values(outcome.cpu).reduce((a, b) => a + b, 0)) / ISSUES;
    const rows = [one, two].map(
      (outcome) =>
        `| ${outcome.label} | ${fmt(outcome.connectsS, 1)} s | ${fmt(outcome.lastSmallS, 1)} s | ${fmt(outcome.smallAfterConnectS, 1)} s | ${fmt(outcome.lastLargeS, 1)} s | ${fmt(rate(outcome))} (${fmt((100 * rate(outcome)) / rate(single))} %) | ${fmt(cpuMs(outcome), 3)} | ${outcome.perReplica.map((count) => fmt(count)).join(' / ')} |`,
    );
    const lines = [
      `${LARGE + SMALL} connections made at the same moment: ${LARGE} projects of ${fmt(LARGE_ISSUES)} issues and ${SMALL} of ${fmt(SMALL_ISSUES)} (${fmt(ISSUES)} issues), through the whole stack on this machine, requirement-sync with its defaults (SYNC_JOB_CONCURRENCY 2, BACKFILL_SLICE 2s). For comparison, one connection of ${fmt(ISSUES)} issues in the same run: ${fmt(single.totalS, 1)} s, ${fmt(rate(single))} issues/s, ${fmt(cpuMs(single), 3)} ms CPU per issue.`,
      '',
      '| requirement-sync | all connected | last small project imported | longest small project, from its connect | last large project imported | issues/s (of one connection) | CPU ms per issue, all processes | issues imported per replica |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      ...[one, two].map(
        (outcome) =>
          `- ${outcome.label}: every small project within ${GOAL_SMALL_S} s → ${outcome.lastSmallS <= GOAL_SMALL_S ? 'met' : '**missed**'} (of its connect: ${outcome.smallAfterConnectS <= GOAL_SMALL_S ? 'met' : '**missed**'}; the connects themselves took ${fmt(outcome.connectsS, 1)} s, ${CONNECT_PARALLELISM} in flight); total rate within ${fmt(100 * (1 - GOAL_RATE_SHARE))} % of one connection's → ${rate(outcome) >= GOAL_RATE_SHARE * rate(single) ? 'met' : '**missed**'}.`,
      ),
    ];
    publishResults('requirement-sync-backfill-tenants', lines.join('\n'));
    const limits =
      'the connects (connection-service answers about 7 a second here) and the job slots (SYNC_JOB_CONCURRENCY 2 per replica); see the section';
    recordFigures(
      'backfill-tenants',
      'requirement-sync-backfill-tenants',
      [one, two].flatMap((outcome) => [
        {
          figure: `--tenants, ${outcome.label}: longest small project, from its connect to its last commit`,
          value: outcome.smallAfterConnectS,
          unit: 's',
          goal: { comparison: '<=' as const, target: GOAL_SMALL_S, source: 'issue 13' },
          limits,
        },
        {
          figure: `--tenants, ${outcome.label}: total issues/s`,
          value: rate(outcome),
          unit: 'issues/s',
          goal: { comparison: '>=' as const, target: GOAL_RATE_SHARE * rate(single), source: 'issue 13' },
          baseline: { value: rate(single), unit: 'issues/s', what: 'one connection, same run' },
          limits,
        },
      ]),
    );
  } finally {
    await bench.stop();
  }
}
