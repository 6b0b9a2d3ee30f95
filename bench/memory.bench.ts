/**
 * `npm run bench:memory` (issue 13, "Memory"): every service of the product from dist, as
 * `npm start` runs them (webhook-gateway, connection-service, requirement-sync, defect-sync,
 * comment-relay, with gitlab-sim beside them), on a fresh database and NATS prefix:
 *   1. idle: BENCH_IDLE_S (20) seconds after the last one is ready, each process's resident set
 *      (VmRSS of /proc/<pid>/status) and V8 heap used (`nodejs_heap_size_used_bytes` of its
 *      /metrics);
 *   2. under load: the peak resident set (VmHWM, reset with /proc/<pid>/clear_refs before the load)
 *      and the highest heap used (sampled every second) while the stack works through a backfill of
 *      BENCH_ISSUES (20,000) issues, BENCH_EDITS (5,000) issue edits as webhooks through the gateway
 *      into requirement-sync, BENCH_PUSHES (300) defect pushes and BENCH_COMMENTS (200) defect
 *      comments.
 * The apps run as the image runs them: `node dist/apps/<app>/src/main.js` with the NODE_ENV and
 * NODE_OPTIONS that deploy/Dockerfile sets (read from it), not the tests' `--enable-source-maps`.
 * Each figure goes next to its goal (≤ 90 MiB idle, ≤ 150 MiB under load) in the `memory` section of
 * bench/RESULTS.md. BENCH_NODE_OPTIONS replaces the image's NODE_OPTIONS (to compare V8 settings);
 * BENCH_IDLE_ONLY=1 stops after the idle figures (RESULTS.md is then left alone).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { CloudEvent, DefectV1 } from '@testkase/contracts';
import { SERVICE_NAMES, type AppName } from '@testkase/testing';

import { recordFigures, type FigureInput } from './lib/goals';
import { pool, waitUntil } from './lib/load-tools';
import { publishResults, runBenchmark, workspaceRoot } from './lib/results';
import { sleep, SyncBenchStack } from './lib/sync-stack';

const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 20);
const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 20_000);
const EDITS = Math.min(ISSUES, Number(process.env['BENCH_EDITS'] ?? 5_000));
const PUSHES = Number(process.env['BENCH_PUSHES'] ?? 300);
const COMMENTS = Number(process.env['BENCH_COMMENTS'] ?? 200);
/** `ENV NAME=value …` of deploy/Dockerfile's runtime stage (NODE_ENV, NODE_OPTIONS). */
function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(path.join(workspaceRoot(), 'deploy', 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const block = /\nENV ((?:[^\n]*\\\n)*[^\n]*)/.exec(runtime)?.[1] ?? '';
  return Object.fromEntries(
    [...block.replace(/\\\n/g, ' ').matchAll(/([A-Z_]+)=("[^"]*"|\S+)/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/^"|"$/g, ''),
    ]),
  );
}
const IMAGE_ENV = imageEnv();
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? IMAGE_ENV['NODE_OPTIONS'] ?? '';
const IDLE_ONLY = process.env['BENCH_IDLE_ONLY'] === '1';
const GOAL_IDLE_MIB = 90;
const GOAL_LOAD_MIB = 150;

const SERVICES = SERVICE_NAMES;
const MEASURED: readonly AppName[] = [...SERVICES, 'gitlab-sim'];

const MiB = 2 ** 20;

/** A field of /proc/<pid>/status (VmRSS, VmHWM, …), in bytes. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

/** Resets the peak resident set (VmHWM) of a process to its current one (Linux: `5` to clear_refs). */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The V8 heap used, from the app's Prometheus metrics (prom-client's default metrics). */
async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('nodejs_heap_size_used_bytes'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

interface Figures {
  rss: number;
  /** The process's own pages (RssAnon): RSS less the node binary and libraries, shared by every process. */
  anon: number;
  heap: number;
}

async function snapshot(bench: SyncBenchStack): Promise<Record<string, Figures>> {
  const entries = await Promise.all(
    MEASURED.map(async (app) => {
      const running = bench.stack.app(app);
      return [
        app,
        {
          rss: procStatus(running.pid, 'VmRSS'),
          anon: procStatus(running.pid, 'RssAnon'),
          heap: await heapUsed(running.url),
        },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const fmt = (bytes: number) => (Number.isFinite(bytes) ? (bytes / MiB).toFixed(0) : '–');
const verdict = (bytes: number, goalMiB: number) =>
  bytes / MiB <= goalMiB ? `≤ ${goalMiB} ✓` : `**> ${goalMiB}**`;

async function load(bench: SyncBenchStack): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  const phase = async (name: string, work: () => Promise<void>) => {
    const started = Date.now();
    console.log(`${name}…`);
    await work();
    phases[name] = (Date.now() - started) / 1000;
  };
  const project = await bench.project({
    count: ISSUES,
    closedPercent: 20,
    confidentialPercent: 10,
    priorityLabelsPercent: 40,
    labels: ['area::checkout'],
    descriptionTemplate: 'As a **buyer** I want feature {{n}}. See [the spec](/uploads/spec-{{n}}.pdf).',
  });
  const projectId = 'bench-memory';
  // A backfill's upserts travel in `upserted_batch` messages (docs/ARCHITECTURE.md): their items
  // count, with the single `upserted` events of the edits.
  let batchedItems = 0;
  bench.nc.subscribe(bench.subject('testkase.requirement.upserted_batch'), {
    callback: (_error, message) => {
      batchedItems += message.json<CloudEvent<{ items: unknown[] }>>().data.items.length;
    },
  });
  const upserted = async () =>
    batchedItems + (await bench.storedCount('TESTKASE_EVENTS', 'testkase.requirement.upserted'));

  await phase(`backfill of ${ISSUES} issues`, async () => {
    await bench.connect(projectId, project);
    await waitUntil('the backfill', 600_000, async () => ((await upserted()) >= ISSUES ? true : undefined), {
      intervalMs: 500,
    });
  });

  await phase(`${EDITS} issue edits (webhooks through the gateway)`, async () => {
    const before = await upserted();
    const batches = Math.ceil(EDITS / 100);
    await pool(batches, 4, async (batch) => {
      const edits = [];
      for (let n = batch * 100; n < Math.min(EDITS, (batch + 1) * 100); n += 1) {
        edits.push({ iid: n + 1, title: `Edited requirement ${n + 1}` });
      }
      await bench.sim.editIssues(project.id, { as: project.developer, edits });
    });
    await bench.sim.flushDeliveries();
    await waitUntil(
      'the edits to be upserted',
      300_000,
      async () => ((await upserted()) >= before + EDITS ? true : undefined),
      { intervalMs: 500 },
    );
  });

  const push = (defectId: string) =>
    bench.stack.core('defect-sync', 'POST', `/v1/projects/${projectId}/defects/${defectId}/push`, {
      title: `Defect ${defectId} found in the regression cycle`,
      description:
        '<p>Steps: open the cart, pay with an <strong>expired</strong> card.</p><ul><li>Expected: an error</li></ul>',
      priority: 'Major',
      status: 'Open',
      url: `https://testkase.example.com/${projectId}/defects/${defectId}`,
    });
  const pushed = (defectId: string) =>
    waitUntil(`defect ${defectId} to be pushed`, 300_000, async () => {
      const { body } = await bench.stack.core<DefectV1>(
        'defect-sync',
        'GET',
        `/v1/projects/${projectId}/defects/${defectId}`,
      );
      if (body.syncStatus === 'failed') throw new Error(`push of ${defectId} failed`);
      return body.issue?.iid;
    });

  await phase(`${PUSHES} defect pushes`, async () => {
    await push('WARMUP');
    await pushed('WARMUP');
    await pool(PUSHES, 16, async (index) => {
      const response = await push(`DEF-${index + 1}`);
      if (response.status >= 300) throw new Error(`push answered ${response.status}`);
    });
    await pool(PUSHES, 8, async (index) => {
      await pushed(`DEF-${index + 1}`);
    });
  });

  await phase(`${COMMENTS} defect comments`, async () => {
    const route = `/v1/projects/${projectId}/defects/WARMUP/comments`;
    await pool(COMMENTS, 16, async (index) => {
      const response = await bench.stack.core('comment-relay', 'POST', route, {
        commentId: `c-${index + 1}`,
        author: 'Ada Lovelace',
        body: `<p>Run ${index + 1}: the checkout still fails with card <code>4000-${index}</code>.</p>`,
      });
      if (response.status >= 300 && response.status !== 202) {
        throw new Error(`comment answered ${response.status}: ${JSON.stringify(response.body)}`);
      }
    });
    await waitUntil('the comments to be posted', 300_000, async () => {
      const { body } = await bench.stack.core<{ noteId?: number | null }>(
        'comment-relay',
        'GET',
        `${route}/c-${COMMENTS}`,
      );
      return body.noteId ? true : undefined;
    });
  });
  return phases;
}

async function main(): Promise<void> {
  const bench = await SyncBenchStack.start(
    'bench_memory',
    {},
    {
      apps: [...SERVICES],
      nodeArgs: [],
      envAll: {
        SYNC_SCHEDULER_TICK: '200ms',
        ...(IMAGE_ENV['NODE_ENV'] ? { NODE_ENV: IMAGE_ENV['NODE_ENV'] } : {}),
        NODE_OPTIONS,
      },
    },
  );
  try {
    console.log(`all ready; idle for ${IDLE_S} s…`);
    await sleep(IDLE_S * 1000);
    const idle = await snapshot(bench);
    console.table(
      Object.fromEntries(
        Object.entries(idle).map(([app, f]) => [
          app,
          { rssMiB: fmt(f.rss), ownMiB: fmt(f.anon), heapMiB: fmt(f.heap) },
        ]),
      ),
    );
    if (IDLE_ONLY) return;

    const peakReset = MEASURED.every((app) => resetPeak(bench.stack.app(app).pid));
    const peakHeap: Record<string, number> = Object.fromEntries(MEASURED.map((app) => [app, 0]));
    const peakRss: Record<string, number> = Object.fromEntries(MEASURED.map((app) => [app, 0]));
    const peakAnon: Record<string, number> = Object.fromEntries(MEASURED.map((app) => [app, 0]));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await snapshot(bench).catch(() => undefined);
        for (const [app, f] of Object.entries(now ?? {})) {
          peakHeap[app] = Math.max(peakHeap[app] ?? 0, f.heap);
          peakRss[app] = Math.max(peakRss[app] ?? 0, f.rss);
          peakAnon[app] = Math.max(peakAnon[app] ?? 0, f.anon);
        }
        await sleep(1_000);
      }
    })();
    const phases = await load(bench);
    sampling = false;
    await sampler;
    for (const app of MEASURED) {
      const pid = bench.stack.app(app).pid;
      peakRss[app] = Math.max(peakRss[app] ?? 0, peakReset ? procStatus(pid, 'VmHWM') : 0);
    }
    const after = await snapshot(bench);

    const rows = MEASURED.map((app) => {
      const product = (SERVICES as readonly string[]).includes(app);
      const i = idle[app]!;
      const p = peakRss[app]!;
      return `| ${app}${product ? '' : ' (simulator, not a goal)'} | ${fmt(i.rss)} | ${product ? verdict(i.rss, GOAL_IDLE_MIB) : '–'} | ${fmt(i.anon)} | ${fmt(i.heap)} | ${fmt(p)} | ${product ? verdict(p, GOAL_LOAD_MIB) : '–'} | ${fmt(peakAnon[app]!)} | ${fmt(peakHeap[app]!)} | ${fmt(after[app]!.rss)} |`;
    });
    const failing = SERVICES.filter(
      (app) => idle[app]!.rss / MiB > GOAL_IDLE_MIB || peakRss[app]! / MiB > GOAL_LOAD_MIB,
    );
    publishResults(
      'memory',
      [
        `Every service from dist as the image runs it (\`node dist/apps/<app>/src/main.js\`, NODE_ENV ${IMAGE_ENV['NODE_ENV'] ?? 'unset'} and NODE_OPTIONS ${NODE_OPTIONS ? `\`${NODE_OPTIONS}\`` : 'empty'}${process.env['BENCH_NODE_OPTIONS'] === undefined ? ' as deploy/Dockerfile sets them' : ' (BENCH_NODE_OPTIONS)'}), on a fresh database and NATS prefix. Idle: ${IDLE_S} s after the last app was ready. Load, in turn: a backfill of ${ISSUES.toLocaleString('en-US')} issues (${phases[`backfill of ${ISSUES} issues`]?.toFixed(1)} s), ${EDITS.toLocaleString('en-US')} issue edits delivered as webhooks through the gateway into requirement-sync (${phases[`${EDITS} issue edits (webhooks through the gateway)`]?.toFixed(1)} s), ${PUSHES} defect pushes (${phases[`${PUSHES} defect pushes`]?.toFixed(1)} s) and ${COMMENTS} defect comments (${phases[`${COMMENTS} defect comments`]?.toFixed(1)} s). RSS from /proc/<pid>/status (peak: VmHWM${peakReset ? ', reset before the load' : ', not resettable here, so including startup'}, and 1 s samples); own: RssAnon, the RSS less the pages of the node binary and its libraries, which every Node process on the host shares (about 50 MiB of each RSS); heap used from each app's /metrics (\`nodejs_heap_size_used_bytes\`, 1 s samples). MiB.`,
        '',
        '| service | idle RSS | goal | idle own (RssAnon) | idle heap used | peak RSS under load | goal | peak own (1 s samples) | peak heap used | RSS after load |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
        failing.length === 0
          ? '- Every service within ≤ 90 MiB idle and ≤ 150 MiB under load.'
          : `- Goal missed by: ${failing.join(', ')}.`,
      ].join('\n'),
    );
    const limits =
      'about 50 MiB of every RSS is the node binary and its libraries (shared by all Node processes); the rest is mostly the loaded code of ~3,000 modules and, under load, garbage V8 collects late (docs/RUNBOOK.md, "Memory")';
    recordFigures(
      'memory',
      'memory',
      SERVICES.flatMap((app): FigureInput[] => [
        {
          figure: `${app}: RSS idle`,
          value: idle[app]!.rss / MiB,
          unit: 'MiB',
          goal: { comparison: '<=', target: GOAL_IDLE_MIB, source: 'issue 13' },
          limits,
        },
        {
          figure: `${app}: peak RSS under load`,
          value: peakRss[app]! / MiB,
          unit: 'MiB',
          goal: { comparison: '<=', target: GOAL_LOAD_MIB, source: 'issue 13' },
          limits,
        },
      ]),
    );
  } finally {
    await bench.stop();
  }
}

runBenchmark('bench:memory', main);
