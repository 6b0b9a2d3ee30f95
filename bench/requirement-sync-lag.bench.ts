/**
 * `npm run bench:sync-lag` (issue 5): issue events at BENCH_RATE/s (1,000) for BENCH_SECONDS (60)
 * through the real path — the simulator edits issues as a user and delivers the webhooks to
 * webhook-gateway, which publishes them to JetStream for requirement-sync — and the lag from the
 * simulator's send (its deliveries log `sentAt`) to (a) the committed requirement (`updatedAt` of
 * the `upserted` event, the commit transaction's time) and (b) that event arriving on NATS. Every
 * edit sets a unique title, so lost ones are counted. Results go to the `requirement-sync-lag`
 * section of bench/RESULTS.md.
 */
import type { CloudEvent, RequirementUpsertedV1 } from '@testkase/contracts';
import type { SimDelivery } from '@testkase/testing';

import { writeResultsSection } from './lib/results';
import { percentile, sleep, SyncBenchStack } from './lib/sync-stack';

const RATE = Number(process.env['BENCH_RATE'] ?? 1_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
/** Issues edited in turn: each one at most every ISSUES / RATE seconds (5 s), never twice in a second. */
const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 5_000);
const TICK_MS = 10;
const GOAL_P50_MS = 20;
const GOAL_P99_MS = 250;

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const bench = await SyncBenchStack.start('bench_lag');
  try {
    const project = await bench.project({ count: ISSUES });
    const projectId = 'bench-lag';
    await bench.connect(projectId, project);
    while ((await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted')) < ISSUES)
      await sleep(200);
    console.log(`backfilled ${ISSUES} issues; sending ${RATE} edits/s for ${SECONDS} s…`);

    const seen = new Map<string, { committedAt: number; receivedAt: number }>();
    bench.nc.subscribe(bench.subject('testkase.requirement.upserted'), {
      callback: (_error, message) => {
        const receivedAt = now();
        const event = message.json<CloudEvent<RequirementUpsertedV1>>();
        const title = event.data.requirement.title;
        if (title.startsWith('lag ') && !seen.has(title)) {
          seen.set(title, { committedAt: Date.parse(event.data.requirement.updatedAt), receivedAt });
        }
      },
    });

    const sentAt = new Map<string, number>();
    let lastSentAt = now();
    const collect = async () => {
      const deliveries: SimDelivery[] = await bench.sim.deliveries({
        project: project.id,
        since: lastSentAt,
        limit: 20_000,
      });
      for (const delivery of deliveries) {
        const title = (delivery.payload['object_attributes'] as { title?: string } | undefined)?.title;
        if (title?.startsWith('lag ')) sentAt.set(title, delivery.sentAt);
        lastSentAt = Math.max(lastSentAt, delivery.sentAt);
      }
    };

    const titles: string[] = [];
    const failures: string[] = [];
    const started = now();
    let sequence = 0;
    let inFlight = 0;
    let lastCollect = started;
    const total = RATE * SECONDS;
    while (sequence < total) {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * RATE));
      while (sequence < due) {
        sequence += 1;
        const iid = ((sequence - 1) % ISSUES) + 1;
        const title = `lag ${sequence}`;
        titles.push(title);
        inFlight += 1;
        void bench.sim
          .updateIssue(project.id, iid, { as: project.developer, title })
          .catch((error: unknown) => failures.push(`${title}: ${(error as Error).message}`))
          .finally(() => (inFlight -= 1));
      }
      if (now() - lastCollect > 1_000) {
        lastCollect = now();
        await collect();
      }
      await sleep(TICK_MS);
    }
    const sendSeconds = (now() - started) / 1000;
    while (inFlight > 0) await sleep(10);
    await bench.sim.flushDeliveries();
    const deadline = now() + 60_000;
    while (now() < deadline && seen.size < titles.length) {
      await collect();
      await sleep(500);
    }
    await collect();

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
    const lost = titles.filter((title) => !seen.has(title)).length;
    const ms = (value: number) => `${Math.round(value)} ms`;
    const rssMiB = bench.peakRssMiB('requirement-sync');
    const lines = [
      `${titles.length.toLocaleString('en-US')} issue edits at ${RATE}/s for ${SECONDS} s (sent in ${sendSeconds.toFixed(1)} s) over ${ISSUES.toLocaleString('en-US')} issues, through gitlab-sim → webhook-gateway → JetStream → requirement-sync → outbox → JetStream, all on this machine.`,
      '',
      '| Lag from the simulator’s send to | p50 | p90 | p99 | max |',
      '|---|---:|---:|---:|---:|',
      `| the committed requirement | **${ms(percentile(commitLag, 50))}** | ${ms(percentile(commitLag, 90))} | **${ms(percentile(commitLag, 99))}** | ${ms(commitLag.at(-1) ?? Number.NaN)} |`,
      `| its \`upserted\` event on NATS | ${ms(percentile(publishLag, 50))} | ${ms(percentile(publishLag, 90))} | ${ms(percentile(publishLag, 99))} | ${ms(publishLag.at(-1) ?? Number.NaN)} |`,
      '',
      `- Lost: ${lost} of ${titles.length} (edits whose title never appeared in an \`upserted\` event); send errors: ${failures.length}; deliveries matched: ${commitLag.length}.`,
      `- Goals: p50 ≤ ${GOAL_P50_MS} ms → ${percentile(commitLag, 50) <= GOAL_P50_MS ? 'met' : '**missed**'}; p99 ≤ ${GOAL_P99_MS} ms → ${percentile(commitLag, 99) <= GOAL_P99_MS ? 'met' : '**missed**'}; none lost → ${lost === 0 ? 'met' : '**missed**'}.`,
      `- Peak RSS of requirement-sync: ${Math.round(rssMiB)} MiB.`,
    ];
    writeResultsSection('requirement-sync-lag', lines.join('\n'));
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
