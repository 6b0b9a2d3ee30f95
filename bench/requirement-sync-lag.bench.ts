/**
 * `npm run bench:sync-lag` (issue 5): issue edits at BENCH_RATES edits/s (1,000, then 200 for
 * comparison) for BENCH_SECONDS (60) each, through the real path — the simulator edits issues as a
 * user (control API) and delivers the webhooks to webhook-gateway, which publishes them to
 * JetStream for requirement-sync — and the lag from the simulator's send (its deliveries log
 * `sentAt`) to (a) the committed requirement (`updatedAt` of the `upserted` event: the writing
 * transaction's time) and (b) that event arriving on NATS. Every edit sets a unique title, so lost
 * ones are counted. CPU seconds per part of the system show what limits the rate. Results go to the
 * `requirement-sync-lag` section of bench/RESULTS.md.
 */
import { Pool } from 'undici';

import type { CloudEvent, RequirementUpsertedV1 } from '@testkase/contracts';
import type { SimDelivery } from '@testkase/testing';

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
const GOAL_P99_MS = 250;

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
    'nats-server': () => pidsOf('nats-server'),
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
  };
}

const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;

async function main(): Promise<void> {
  const bench = await SyncBenchStack.start('bench_lag');
  try {
    const project = await bench.project({ count: ISSUES });
    await bench.connect('bench-lag', { ...project });
    while ((await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted')) < ISSUES)
      await sleep(200);
    const results: RunResult[] = [];
    for (const [index, rate] of RATES.entries()) {
      console.log(`${rate} edits/s for ${SECONDS} s…`);
      const result = await run(bench, project, rate, `lag${index}`);
      console.log({ ...result, commitLag: undefined, publishLag: undefined });
      results.push(result);
      await sleep(5_000);
    }
    const lines = [
      `Issue edits over ${ISSUES.toLocaleString('en-US')} issues (each edited at most every ${ISSUES / Math.max(...RATES)} s), through gitlab-sim → webhook-gateway → JetStream → requirement-sync → outbox → JetStream, everything on this machine; the driver hands the simulator the edits due every few milliseconds in one control-API call (at most ${BATCH}, ${SENDERS} calls in flight), and the simulator delivers each edit's webhook on its own, as GitLab does.`,
      '',
      '| Rate | Edits (send time) | Lag to the committed requirement p50 / p90 / p99 / max | Lag to its `upserted` event on NATS p50 / p99 | Lost | Send errors |',
      '|---|---|---|---|---:|---:|',
      ...results.map(
        (r) =>
          `| ${r.rate}/s | ${r.sent.toLocaleString('en-US')} (${r.sendSeconds.toFixed(0)} s) | **${ms(percentile(r.commitLag, 50))}** / ${ms(percentile(r.commitLag, 90))} / **${ms(percentile(r.commitLag, 99))}** / ${ms(r.commitLag.at(-1) ?? Number.NaN)} | ${ms(percentile(r.publishLag, 50))} / ${ms(percentile(r.publishLag, 99))} | ${r.lost} | ${r.sendErrors} |`,
      ),
      '',
      ...results.map(
        (r) =>
          `- ${r.rate}/s: CPU seconds over ${r.seconds.toFixed(0)} s (${(Object.values(r.cpu).reduce((a, b) => a + b, 0) / r.seconds).toFixed(2)} of 2 cores busy on average): ${Object.entries(
            r.cpu,
          )
            .map(
              ([name, seconds]) =>
                `${name} ${seconds.toFixed(1)} (${((1e6 * seconds) / r.sent).toFixed(0)} µs per edit)`,
            )
            .join(', ')}.`,
      ),
      '',
      ...results.map(
        (r) =>
          `- Goals at ${r.rate}/s: p50 ≤ ${GOAL_P50_MS} ms → ${percentile(r.commitLag, 50) <= GOAL_P50_MS ? 'met' : '**missed**'}; p99 ≤ ${GOAL_P99_MS} ms → ${percentile(r.commitLag, 99) <= GOAL_P99_MS ? 'met' : '**missed**'}; none lost → ${r.lost === 0 ? 'met' : '**missed**'}.`,
      ),
      `- Peak RSS of requirement-sync: ${Math.round(bench.peakRssMiB('requirement-sync'))} MiB.`,
      ...results
        .filter((r) => r.rate === Math.max(...RATES))
        .map((r) => {
          const cpuSeconds = Object.values(r.cpu).reduce((a, b) => a + b, 0);
          const perEdit = (1e3 * cpuSeconds) / r.sent;
          const slowest = results.find((other) => other.rate === Math.min(...RATES));
          const calm =
            slowest && slowest !== r
              ? ` At ${slowest.rate}/s the same path takes ${ms(percentile(slowest.commitLag, 50))} at p50.`
              : '';
          return `- What limits ${r.rate}/s: the two cores themselves. Every process on the path shares them (the simulator and the driver included): together they were busy ${(cpuSeconds / r.seconds).toFixed(2)} of 2 cores on average, ${perEdit.toFixed(2)} ms of CPU per edit, so each event waits behind others at every hop (simulator, gateway, NATS, requirement-sync, Postgres, the outbox relay).${calm} requirement-sync's share: ${((1e3 * (r.cpu['requirement-sync'] ?? 0)) / r.sent).toFixed(2)} ms per edit. With GitLab, NATS and Postgres on machines of their own, as in production, these cores would be the services' alone.`;
        }),
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
