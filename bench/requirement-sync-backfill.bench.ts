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
 * of bench/RESULTS.md.
 */
import type { BackfillProgressReportedV1, CloudEvent } from '@testkase/contracts';

import { writeResultsSection } from './lib/results';
import { sleep, SyncBenchStack } from './lib/sync-stack';

const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 50_000);
const BINDING_RPM = Number(process.env['BENCH_BINDING_RPM'] ?? 100);
const BINDING_ISSUES = Number(process.env['BENCH_BINDING_ISSUES'] ?? 25_000);
const GOAL_ISSUES_PER_S = 5_000;
const GITLAB_COM_RPM = 2_000;

interface Run {
  label: string;
  issues: number;
  committedS: number;
  publishedS: number;
  requests: number;
  throttled: number;
  windows: number[];
}

const API_ROUTES = /^\/api\/v4\//;

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
  await bench.sim.setRateLimits(limits);
  const upsertedBefore = await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted');
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
  const started = Date.now();
  const windows: number[] = [];
  let windowStart = requestsBefore;
  const windowTimer = options.windowMs
    ? setInterval(() => {
        void bench.simCounter('gitlab_sim_http_requests_total', { route: API_ROUTES }).then((count) => {
          windows.push(count - windowStart);
          windowStart = count;
        });
      }, options.windowMs)
    : undefined;
  await bench.connect(projectId, project);
  const done = await completed;
  clearInterval(windowTimer);
  const committedS = (Date.parse(done.finishedAt ?? new Date().toISOString()) - started) / 1000;
  while (
    (await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted')) <
    upsertedBefore + issues
  ) {
    await sleep(50);
  }
  const publishedS = (Date.now() - started) / 1000;
  return {
    label,
    issues,
    committedS,
    publishedS,
    requests:
      (await bench.simCounter('gitlab_sim_http_requests_total', { route: API_ROUTES })) - requestsBefore,
    throttled:
      (await bench.simCounter('gitlab_sim_http_requests_total', { status: '429' })) - throttledBefore,
    windows,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const bench = await SyncBenchStack.start('bench_backfill', { DB_POOL_SIZE: '10' });
  try {
    console.log(`A: ${ISSUES} issues, simulator limits off…`);
    const open = await backfill(bench, 'open', ISSUES, { preset: 'off' });
    const peakRss = bench.peakRssMiB('requirement-sync');
    console.log(open, `peak RSS ${fmt(peakRss)} MiB`);

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
      `- Goal A: ≥ ${fmt(GOAL_ISSUES_PER_S)} issues/s → ${rate(open, open.committedS) >= GOAL_ISSUES_PER_S ? 'met' : '**missed**'} (${fmt(rate(open, open.committedS))} issues/s to the last commit).`,
      `- B: the GitLab.com preset allows ${fmt(GITLAB_COM_RPM)} requests/min = ${fmt(allowedIssuesPerS)} issues/s (pages of 100); the run reached ${fmt((100 * rate(gitlabCom, gitlabCom.committedS)) / allowedIssuesPerS)} % of that with ${fmt(gitlabCom.throttled)} 429s. ${fmt(gitlabCom.requests)} requests fit in one window, so the limit did not bind: B runs at A's pace.`,
      `- C: requests per full one-minute window: ${binding.windows.map((count) => fmt(count)).join(', ')} against a limit of ${BINDING_RPM} (${utilisation.map((u) => `${fmt(100 * u)} %`).join(', ')} of the allowed rate), ${fmt(binding.throttled)} 429s.`,
      `- Peak RSS of requirement-sync during A: ${fmt(peakRss)} MiB.`,
    ];
    writeResultsSection('requirement-sync-backfill', lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    await bench.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
