/**
 * `npm run bench:gateway`: throughput and latency of webhook-gateway against a bare Fastify route,
 * in one run on this machine (issue 4, "Benchmark"). autocannon posts the documented issue event
 * (4 KB) over loopback, each request with its own Idempotency-Key, to:
 *   (a) a bare Fastify route that parses the JSON body and answers 200;
 *   (b) webhook-gateway from dist, with a fresh database and NATS prefix: token check and the
 *       awaited JetStream ack (202);
 *   (c) for reference, the naive design: a Fastify route awaiting one `js.publish` per delivery.
 * at each connection count of BENCH_CONNECTIONS. The machine is shared, so the servers are measured
 * in alternating slices (a, b, c, a, b, c, …): throughput is the median of the slices and the
 * gateway's share is the median of its ratio to the bare route's slice of the same round, so that
 * load from elsewhere hits both sides of each ratio alike. Then (b), and (a) for comparison, at half
 * of (b)'s peak rate with the first connection count: with autocannon's `overallRate` (which sends
 * each second's quota as fast as it can, then idles), and with the same rate from staggered senders
 * whose quotas start at spread-out moments of the second. Last, the whole stack as `npm start` runs
 * it (the simulator and every app, in a fresh environment of their own): the CPU each process spends
 * idle (ms per second), then (a) against the stack's gateway again, with the CPU every process of the
 * stack spends meanwhile (the events the gateway publishes are consumed by the other apps). Results
 * go to the `webhook-gateway` section of bench/RESULTS.md.
 *
 * Knobs: BENCH_CONNECTIONS (`10,64`), BENCH_ROUNDS (5), BENCH_DURATION seconds per slice (6),
 * BENCH_WARMUP seconds (3), BENCH_NAIVE=false to skip (c), BENCH_STACK=false to skip the whole
 * stack, BENCH_IDLE seconds of idle measurement (10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import autocannon from 'autocannon';
import { connect, type NatsConnection } from 'nats';

import {
  createTestEnvironment,
  eventually,
  migrateApp,
  startApp,
  TestStack,
  type AppName,
  type RunningApp,
  type TestEnvironment,
} from '@testkase/testing';

import { recordFigures } from './lib/goals';
import { publishResults, runBenchmark, workspaceRoot } from './lib/results';

const CONNECTION_COUNTS = (process.env['BENCH_CONNECTIONS'] ?? '10,64').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const DURATION_S = Number(process.env['BENCH_DURATION'] ?? 6);
const WARMUP_S = Number(process.env['BENCH_WARMUP'] ?? 3);
const WITH_NAIVE = process.env['BENCH_NAIVE'] !== 'false';
const WITH_STACK = process.env['BENCH_STACK'] !== 'false';
const IDLE_S = Number(process.env['BENCH_IDLE'] ?? 10);
/** Every app `npm start` runs (tools/start.js), the simulator included. */
const STACK_APPS = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const satisfies readonly Exclude<AppName, 'gitlab-sim'>[];
const GOAL_RATIO = 0.6;
const GOAL_P99_MS = 15;
/** Staggered senders for the spread-out half-rate run. */
const SPREAD_SENDERS = 10;

const ROOT = workspaceRoot();
const FIXTURE_PATH = path.join(ROOT, 'apps/webhook-gateway/test/fixtures/gitlab/webhook-issue-open.json');
const FIXTURE = readFileSync(FIXTURE_PATH);
const SECRET = 'bench-webhook-secret';

interface Target {
  name: 'bare' | 'gateway' | 'naive';
  label: string;
  url: string;
  pid: number;
}

interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

interface Measurement extends Latency {
  target: Target;
  connections: number;
  /** Median over the slices. */
  requestsPerSecond: number;
  slicesPerSecond: number[];
  failed: number;
  /** Responses over all slices. */
  answered: number;
  /** Requests of the warm-up before the slices. */
  warmUpRequests: number;
  peakRssMiB: number;
  /** CPU time per answered request, in µs, of the server, the NATS server and autocannon. */
  cpuPerRequestUs: { server: number; nats?: number; client: number };
}

interface Slice {
  rate: number;
  times: number[];
  failed: number;
  answered: number;
  cpuMs: { server: number; nats: number; client: number };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** utime + stime of a process in ms (Linux, 100 ticks per second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak resident set size (VmHWM) of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The processes whose command name is `comm`. */
function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * The local nats-server of `natsUrl` (for its CPU per request): the one started with its port, or
 * the only one. Tests elsewhere on the machine may run private servers of their own.
 */
function natsServerPid(natsUrl: string): number | undefined {
  const pids = pidsNamed('nats-server');
  const port = new URL(natsUrl).port || '4222';
  const withPort = pids.filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some(
        (arg, index) =>
          arg === `--port=${port}` || ((arg === '-p' || arg === '--port') && args[index + 1] === port),
      );
    } catch {
      return false;
    }
  });
  if (withPort.length === 1) return withPort[0];
  return pids.length === 1 ? pids[0] : undefined;
}

/** CPU ms of each process of a group, by pid; one that has gone is left out. */
function groupCpuMs(pids: readonly number[]): Map<number, number> {
  const readings = new Map<number, number>();
  for (const pid of pids) {
    try {
      readings.set(pid, cpuMs(pid));
    } catch {
      // exited
    }
  }
  return readings;
}

/**
 * CPU ms per second of each named group of processes while `during` runs, and the seconds it took.
 * A group is re-listed at the end (Postgres starts and ends backends): a process that started
 * meanwhile counts whole, one that ended meanwhile is left out.
 */
async function cpuRates(
  groups: ReadonlyMap<string, () => readonly number[]>,
  during: () => Promise<unknown>,
): Promise<{ rates: Map<string, number>; seconds: number }> {
  const before = new Map([...groups].map(([name, pids]) => [name, groupCpuMs(pids())]));
  const started = performance.now();
  await during();
  const seconds = (performance.now() - started) / 1000;
  const rates = new Map(
    [...groups].map(([name, pids]) => {
      const start = before.get(name)!;
      let spent = 0;
      for (const [pid, ms] of groupCpuMs(pids())) spent += ms - (start.get(pid) ?? 0);
      return [name, spent / seconds];
    }),
  );
  return { rates, seconds };
}

/** Starts one of bench/lib's servers from dist and waits for its `{"port":…}` line. */
async function startServer(
  script: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/bench/lib', script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) =>
      resolve((JSON.parse(chunk.toString()) as { port: number }).port),
    );
  });
  return { child, port };
}

let sequence = 0;

interface Run {
  instance: autocannon.Instance;
  result: Promise<autocannon.Result>;
}

function load(
  target: Target,
  connectionId: string,
  options: { connections: number; durationS: number; overallRate?: number },
): Run {
  const tag = randomUUID().slice(0, 8);
  let resolve: (result: autocannon.Result) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const result = new Promise<autocannon.Result>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  const instance = autocannon(
    {
      url: target.url,
      connections: options.connections,
      duration: options.durationS,
      ...(options.overallRate ? { overallRate: options.overallRate } : {}),
      requests: [
        {
          method: 'POST',
          path: `/webhooks/gitlab/${connectionId}`,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'GitLab/18.6.0',
            'x-gitlab-event': 'Issue Hook',
            'x-gitlab-token': SECRET,
            'x-gitlab-instance': 'https://gitlab.example.com',
            'x-gitlab-webhook-uuid': randomUUID(),
            'x-gitlab-event-uuid': randomUUID(),
          },
          body: FIXTURE,
          // A new Idempotency-Key per request, as GitLab sends for distinct deliveries.
          setupRequest: (request) => {
            sequence += 1;
            return { ...request, headers: { ...request.headers, 'idempotency-key': `${tag}-${sequence}` } };
          },
        },
      ],
    },
    (error, finished) => (error ? reject(error) : resolve(finished)),
  );
  return { instance, result };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const latencyOf = (sorted: number[]): Latency => ({
  p50: percentile(sorted, 50),
  p99: percentile(sorted, 99),
  p999: percentile(sorted, 99.9),
});

/** Latencies of every response (ms, not rounded as autocannon's histogram is) and the failures. */
class LatencyRecorder {
  private readonly times: number[] = [];
  private failed = 0;
  private readonly runs: Run[] = [];

  /** Attach at once: responses that come before are not counted. */
  track(run: Run): void {
    this.runs.push(run);
    run.instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      this.times.push(responseTime);
      if (statusCode < 200 || statusCode >= 300) this.failed += 1;
    });
  }

  async finish(): Promise<{
    latency: Latency;
    times: number[];
    answered: number;
    failed: number;
    rate: number;
  }> {
    const results = await Promise.all(this.runs.map((run) => run.result));
    const times = [...this.times].sort((a, b) => a - b);
    // Each run's own rate, summed: staggered runs do not start and end together.
    const rate = results.reduce((sum, result) => sum + result.requests.total / result.duration, 0);
    return {
      latency: latencyOf(times),
      times,
      answered: times.length,
      failed: this.failed + results.reduce((sum, result) => sum + result.errors + result.timeouts, 0),
      rate,
    };
  }
}

async function slice(
  target: Target,
  connectionId: string,
  connections: number,
  natsPid: number | undefined,
): Promise<Slice> {
  const before = {
    server: cpuMs(target.pid),
    nats: natsPid ? cpuMs(natsPid) : 0,
    client: process.cpuUsage(),
  };
  const recorder = new LatencyRecorder();
  recorder.track(load(target, connectionId, { connections, durationS: DURATION_S }));
  const run = await recorder.finish();
  const client = process.cpuUsage(before.client);
  return {
    rate: run.rate,
    times: run.times,
    failed: run.failed,
    answered: run.answered,
    cpuMs: {
      server: cpuMs(target.pid) - before.server,
      nats: natsPid ? cpuMs(natsPid) - before.nats : Number.NaN,
      client: (client.user + client.system) / 1000,
    },
  };
}

/** Every target warmed up, then ROUNDS rounds of one slice per target, in turn. */
async function measurePeaks(
  targets: Target[],
  connectionId: string,
  connections: number,
  natsPid: number | undefined,
): Promise<Measurement[]> {
  const warmedUp = new Map<Target, number>();
  for (const target of targets) {
    const warmUp = await load(target, connectionId, { connections, durationS: WARMUP_S }).result;
    warmedUp.set(target, warmUp.requests.total);
  }
  const slices = new Map<Target, Slice[]>(targets.map((target) => [target, []]));
  for (let round = 1; round <= ROUNDS; round += 1) {
    process.stdout.write(`  ${connections} connections, round ${round}/${ROUNDS}\n`);
    for (const target of targets)
      slices.get(target)!.push(await slice(target, connectionId, connections, natsPid));
  }
  return targets.map((target) => {
    const own = slices.get(target)!;
    const answered = Math.max(
      1,
      own.reduce((sum, s) => sum + s.answered, 0),
    );
    const total = (pick: (s: Slice) => number) => own.reduce((sum, s) => sum + pick(s), 0);
    return {
      target,
      connections,
      requestsPerSecond: median(own.map((s) => s.rate)),
      slicesPerSecond: own.map((s) => s.rate),
      ...latencyOf(own.flatMap((s) => s.times).sort((a, b) => a - b)),
      failed: total((s) => s.failed),
      answered: total((s) => s.answered),
      warmUpRequests: warmedUp.get(target)!,
      peakRssMiB: peakRssMiB(target.pid),
      cpuPerRequestUs: {
        server: (total((s) => s.cpuMs.server) * 1000) / answered,
        nats: natsPid ? (total((s) => s.cpuMs.nats) * 1000) / answered : undefined,
        client: (total((s) => s.cpuMs.client) * 1000) / answered,
      },
    };
  });
}

/** `rate` requests/s with autocannon's overallRate: each second's quota is sent at once, then idle. */
function atRateBursty(target: Target, connectionId: string, connections: number, rate: number) {
  const recorder = new LatencyRecorder();
  recorder.track(load(target, connectionId, { connections, durationS: DURATION_S, overallRate: rate }));
  return recorder.finish();
}

/** `rate` requests/s from staggered senders, whose per-second quotas start at spread-out moments. */
async function atRateSpread(target: Target, connectionId: string, connections: number, rate: number) {
  const senders = Math.min(SPREAD_SENDERS, connections);
  const recorder = new LatencyRecorder();
  for (let index = 0; index < senders; index += 1) {
    const share = Math.floor(rate / senders) + (index < rate % senders ? 1 : 0);
    recorder.track(
      load(target, connectionId, {
        connections: Math.max(1, Math.floor(connections / senders)),
        durationS: DURATION_S,
        overallRate: share,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000 / senders));
  }
  return recorder.finish();
}

async function putVerifier(
  nc: NatsConnection,
  environment: TestEnvironment,
  connectionId: string,
): Promise<void> {
  const kv = await nc.jetstream().views.kv(`${environment.natsPrefix}_WEBHOOK_VERIFIERS`);
  await kv.put(
    connectionId,
    JSON.stringify({
      connectionId,
      projectId: 'bench',
      state: 'active',
      secretSha256: createHash('sha256').update(SECRET).digest('hex'),
      signed: false,
      updatedAt: new Date().toISOString(),
    }),
  );
}

const fmt = (value: number | undefined, digits = 0) =>
  value !== undefined && Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

/**
 * Every app of `npm start` in a fresh environment: their idle CPU (ms/s), then the bare route
 * against the stack's gateway at each connection count, with every process's CPU meanwhile.
 */
async function measureStack(bare: Target, natsPid: number | undefined): Promise<string[]> {
  process.stdout.write('whole stack: starting every app …\n');
  const stack = await TestStack.start({ apps: [...STACK_APPS], label: 'bench-stack' });
  const nc = await connect({ servers: stack.environment.natsUrl, name: 'bench-stack' });
  try {
    const connectionId = randomUUID();
    await putVerifier(nc, stack.environment, connectionId);
    const gateway = stack.app('webhook-gateway');
    await eventually(async () => {
      const response = await fetch(`${gateway.url}/webhooks/gitlab/${connectionId}`, {
        method: 'POST',
        body: FIXTURE,
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Issue Hook',
          'x-gitlab-token': SECRET,
        },
      });
      if (response.status !== 202) throw new Error(`gateway answered ${response.status}`);
    });
    const groups = new Map<string, () => number[]>([
      ['gitlab-sim', () => [stack.app('gitlab-sim').pid]],
      ...STACK_APPS.map((app): [string, () => number[]] => [app, () => [stack.app(app).pid]]),
      ['nats-server (shared)', () => (natsPid ? [natsPid] : [])],
      ['postgres, all processes (shared)', () => pidsNamed('postgres')],
    ]);
    // Startup work (migrations, first polls, JIT) settles first.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    process.stdout.write(`whole stack: idle CPU over ${IDLE_S} s …\n`);
    const { rates: idle } = await cpuRates(
      groups,
      () => new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000)),
    );
    const target: Target = {
      name: 'gateway',
      label: '(b) webhook-gateway within the whole stack',
      url: gateway.url,
      pid: gateway.pid,
    };
    const busyByCount: { rates: Map<string, number>; seconds: number; delivered: number }[] = [];
    const shares: string[] = [];
    for (const connections of CONNECTION_COUNTS) {
      process.stdout.write(`whole stack, ${connections} connections …\n`);
      let measured: Measurement[] = [];
      const busy = await cpuRates(groups, async () => {
        measured = await measurePeaks([bare, target], connectionId, connections, natsPid);
      });
      const [bareRun, gatewayRun] = measured as [Measurement, Measurement];
      const ratios = gatewayRun.slicesPerSecond.map((rate, round) => rate / bareRun.slicesPerSecond[round]!);
      const ratio = median(ratios);
      shares.push(
        `- ${connections} connections, whole stack: gateway at **${(ratio * 100).toFixed(1)} %** of the bare route ` +
          `(rounds: ${ratios.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')}; ${fmt(gatewayRun.requestsPerSecond)} ` +
          `against ${fmt(bareRun.requestsPerSecond)} requests/s; gateway ${fmt(gatewayRun.cpuPerRequestUs.server)} µs CPU ` +
          `per request, p99 ${fmt(gatewayRun.p99, 1)} ms, ${fmt(gatewayRun.failed)} non-2xx + errors).`,
      );
      busyByCount.push({ ...busy, delivered: gatewayRun.answered + gatewayRun.warmUpRequests });
    }
    const rows = [...groups.keys()].map(
      (name) =>
        `| ${name} | ${fmt(idle.get(name), 1)} | ${busyByCount
          .map(({ rates, seconds, delivered }) => {
            const perDelivery = ((rates.get(name)! - idle.get(name)!) * seconds * 1000) / delivered;
            return `${fmt(rates.get(name))} | ${fmt(perDelivery)}`;
          })
          .join(' | ')} |`,
    );
    return [
      '',
      '### Within the whole stack (every app of `npm start`)',
      '',
      'The simulator and every app from dist in a fresh environment (own database and NATS prefix), as ' +
        "`npm start` runs them; the gateway's events are consumed by the other apps (for an unknown project). " +
        `Idle: ${IDLE_S} s with no requests, 5 s after all were ready. Under load: the whole of the rounds at ` +
        "that connection count (the bare route's slices and the gateway's), CPU ms per second of wall time.",
      '',
      ...shares,
      '',
      `| process | idle CPU ms/s | ${CONNECTION_COUNTS.map((c) => `${c} connections: CPU ms/s during the rounds | µs above idle per gateway delivery`).join(' | ')} |`,
      `|---|--:|${CONNECTION_COUNTS.map(() => '--:|--:|').join('')}`,
      ...rows,
    ];
  } finally {
    await nc.close();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const environment = await createTestEnvironment('bench');
  const env = { ...environment.baseEnv };
  const nc = await connect({ servers: environment.natsUrl, name: 'bench' });
  const servers: ChildProcess[] = [];
  let gateway: RunningApp | undefined;
  try {
    await migrateApp('webhook-gateway', env);
    gateway = await startApp('webhook-gateway', { env });
    const connectionId = randomUUID();
    await putVerifier(nc, environment, connectionId);
    await eventually(async () => {
      const response = await fetch(`${gateway!.url}/webhooks/gitlab/${connectionId}`, {
        method: 'POST',
        body: FIXTURE,
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Issue Hook',
          'x-gitlab-token': SECRET,
        },
      });
      if (response.status !== 202) throw new Error(`gateway answered ${response.status}`);
    });

    const bare = await startServer('bare-fastify.server.js');
    servers.push(bare.child);
    const targets: Target[] = [
      {
        name: 'bare',
        label: '(a) bare Fastify route (parse JSON, 200)',
        url: `http://127.0.0.1:${bare.port}`,
        pid: bare.child.pid!,
      },
      {
        name: 'gateway',
        label: '(b) webhook-gateway (token check, JetStream ack, 202)',
        url: gateway.url,
        pid: gateway.pid,
      },
    ];
    if (WITH_NAIVE) {
      const naive = await startServer('naive-gateway.server.js', {
        NATS_URL: environment.natsUrl,
        NATS_PREFIX: environment.natsPrefix,
      });
      servers.push(naive.child);
      targets.push({
        name: 'naive',
        label: '(c) reference: naive route awaiting js.publish',
        url: `http://127.0.0.1:${naive.port}`,
        pid: naive.child.pid!,
      });
    }

    const natsPid = natsServerPid(environment.natsUrl);
    const peaks: Measurement[] = [];
    for (const connections of CONNECTION_COUNTS) {
      process.stdout.write(`peak throughput, ${connections} connections …\n`);
      peaks.push(...(await measurePeaks(targets, connectionId, connections, natsPid)));
    }
    const peakOf = (name: Target['name'], connections: number) =>
      peaks.find((m) => m.target.name === name && m.connections === connections)!;

    const halfConnections = CONNECTION_COUNTS[0]!;
    const halfRate = Math.max(1, Math.floor(peakOf('gateway', halfConnections).requestsPerSecond / 2));
    type HalfRun = Awaited<ReturnType<LatencyRecorder['finish']>>;
    const variants = [
      { label: '(b) webhook-gateway, autocannon overallRate', name: 'gateway', spread: false },
      { label: `(b) webhook-gateway, ${SPREAD_SENDERS} staggered senders`, name: 'gateway', spread: true },
      { label: '(a) bare Fastify route, autocannon overallRate', name: 'bare', spread: false },
      { label: `(a) bare Fastify route, ${SPREAD_SENDERS} staggered senders`, name: 'bare', spread: true },
    ] as const;
    const halfRuns = new Map<string, HalfRun[]>(variants.map((variant) => [variant.label, []]));
    const halfRounds = Math.max(1, Math.ceil(ROUNDS / 2));
    for (let round = 1; round <= halfRounds; round += 1) {
      process.stdout.write(`half rate (${halfRate} requests/s), round ${round}/${halfRounds} …\n`);
      for (const variant of variants) {
        const target = targets.find((t) => t.name === variant.name)!;
        const run = variant.spread
          ? await atRateSpread(target, connectionId, halfConnections, halfRate)
          : await atRateBursty(target, connectionId, halfConnections, halfRate);
        halfRuns.get(variant.label)!.push(run);
      }
    }
    const half = variants.map(({ label }) => {
      const runs = halfRuns.get(label)!;
      const times = runs.flatMap((run) => run.times).sort((a, b) => a - b);
      return {
        label,
        run: {
          latency: latencyOf(times),
          rate: median(runs.map((run) => run.rate)),
          failed: runs.reduce((sum, run) => sum + run.failed, 0),
        },
      };
    });

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const outcomes = [
      ...metrics.matchAll(/^gateway_deliveries_total\{event="[^"]*",outcome="([^"]+)"[^}]*\} (\d+)/gm),
    ]
      .map(([, outcome, count]) => `${outcome} ${Number(count).toLocaleString('en-US')}`)
      .join(', ');

    // The whole stack: the other servers of this run stop first, so that only `npm start`'s run.
    for (const child of servers.splice(1)) child.kill('SIGTERM');
    await gateway.stop();
    const stackLines = WITH_STACK ? await measureStack(targets[0]!, natsPid) : [];

    const peakRows = peaks.map(
      (m) =>
        `| ${m.target.label} | ${m.connections} | ${fmt(m.requestsPerSecond)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ` +
        `${fmt(m.p999, 1)} | ${fmt(m.peakRssMiB)} | ${fmt(m.failed)} | ${fmt(m.cpuPerRequestUs.server)} / ` +
        `${fmt(m.cpuPerRequestUs.nats)} / ${fmt(m.cpuPerRequestUs.client)} |`,
    );
    /** Median over the rounds of `name`'s slice divided by the bare route's slice of the same round. */
    const shareOfBare = (name: Target['name'], connections: number) => {
      const bareSlices = peakOf('bare', connections).slicesPerSecond;
      return median(
        peakOf(name, connections).slicesPerSecond.map((rate, round) => rate / bareSlices[round]!),
      );
    };
    const percent = (value: number, digits = 0) => `${(value * 100).toFixed(digits)} %`;
    const ratios = CONNECTION_COUNTS.map((connections) => {
      const ratio = shareOfBare('gateway', connections);
      const rounds = peakOf('gateway', connections)
        .slicesPerSecond.map((rate, round) =>
          percent(rate / peakOf('bare', connections).slicesPerSecond[round]!),
        )
        .join(', ');
      const naive = WITH_NAIVE ? `; the naive route ${percent(shareOfBare('naive', connections))}` : '';
      return (
        `- ${connections} connections: gateway at **${percent(ratio, 1)}** of the bare route ` +
        `(rounds: ${rounds}; goal ≥ ${GOAL_RATIO * 100} %: ${ratio >= GOAL_RATIO ? 'met' : 'not met'})${naive}.`
      );
    });
    const halfRows = half.map(
      ({ label, run }) =>
        `| ${label} | ${fmt(run.rate)} | ${fmt(run.latency.p50, 2)} | ${fmt(run.latency.p99, 2)} | ${fmt(run.latency.p999, 2)} | ${fmt(run.failed)} |`,
    );
    const gatewayHalf = half.filter((entry) => entry.label.startsWith('(b)'));
    const markdown = [
      '## webhook-gateway (`npm run bench:gateway`)',
      '',
      `autocannon; per connection count, ${ROUNDS} rounds of one ${DURATION_S} s slice per server in turn, after ` +
        `${WARMUP_S} s of warm-up each (requests/s: median slice; latencies: all slices); loopback, body ` +
        `\`webhook-issue-open.json\` (${FIXTURE.length.toLocaleString('en-US')} bytes), a new Idempotency-Key ` +
        `per request; NATS ${environment.natsUrl} with JetStream file storage, on the same machine. ` +
        `Load average before the run ${loadBefore.map((v) => v.toFixed(2)).join(' / ')}, after ` +
        `${os
          .loadavg()
          .map((v) => v.toFixed(2))
          .join(' / ')} (the machine is shared with other work).`,
      '',
      '### Peak',
      '',
      '| server | connections | requests/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | non-2xx + errors | CPU µs per request: server / nats-server / autocannon |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...peakRows,
      '',
      ...ratios,
      '',
      `### At half the gateway's peak rate (${halfRate.toLocaleString('en-US')} requests/s, ${halfConnections} connections)`,
      '',
      '| load | achieved requests/s | p50 ms | p99 ms | p99.9 ms | non-2xx + errors |',
      '|---|--:|--:|--:|--:|--:|',
      ...halfRows,
      '',
      ...gatewayHalf.map(
        ({ label, run }) =>
          `- ${label}: p99 ${fmt(run.latency.p99, 2)} ms (goal ≤ ${GOAL_P99_MS} ms: ${run.latency.p99 <= GOAL_P99_MS ? 'met' : 'not met'}).`,
      ),
      `- Gateway outcomes over the whole run: ${outcomes}.`,
      ...stackLines,
    ].join('\n');
    publishResults('webhook-gateway', markdown);
    const halfOf = (label: string) => half.find((entry) => entry.label === label)!.run;
    const cpuText = (connections: number) =>
      `CPU µs per request (server / nats-server): gateway ${fmt(peakOf('gateway', connections).cpuPerRequestUs.server)} / ` +
      `${fmt(peakOf('gateway', connections).cpuPerRequestUs.nats)}, bare route ${fmt(peakOf('bare', connections).cpuPerRequestUs.server)}; ` +
      `autocannon ${fmt(peakOf('gateway', connections).cpuPerRequestUs.client)} on the same 2 cores`;
    recordFigures('gateway', 'webhook-gateway', [
      ...CONNECTION_COUNTS.map((connections) => ({
        figure: `requests/s as a share of the bare Fastify route, ${connections} connections`,
        value: shareOfBare('gateway', connections),
        unit: '×',
        goal: { comparison: '>=' as const, target: 0.6, source: 'issue 13' },
        baseline: {
          value: peakOf('bare', connections).requestsPerSecond,
          unit: 'requests/s',
          what: `bare Fastify route; gateway ${fmt(peakOf('gateway', connections).requestsPerSecond)}`,
        },
        limits: cpuText(connections),
      })),
      {
        figure: `p99 at half the peak rate (${fmt(halfRate)}/s), autocannon overallRate`,
        value: halfOf('(b) webhook-gateway, autocannon overallRate').latency.p99,
        unit: 'ms',
        goal: { comparison: '<=', target: GOAL_P99_MS, source: 'issue 13' },
        baseline: {
          value: halfOf('(a) bare Fastify route, autocannon overallRate').latency.p99,
          unit: 'ms',
          what: 'bare Fastify route, same load',
        },
        limits: `each second's quota arrives as one burst of ${fmt(halfRate)} requests over ${halfConnections} connections, so requests queue behind the burst (p50 ${fmt(halfOf('(b) webhook-gateway, autocannon overallRate').latency.p50, 2)} ms); ${cpuText(halfConnections)}`,
      },
      {
        figure: `p99 at half the peak rate, ${SPREAD_SENDERS} staggered senders`,
        value: halfOf(`(b) webhook-gateway, ${SPREAD_SENDERS} staggered senders`).latency.p99,
        unit: 'ms',
        goal: { comparison: '<=', target: GOAL_P99_MS, source: 'issue 4' },
        baseline: {
          value: halfOf(`(a) bare Fastify route, ${SPREAD_SENDERS} staggered senders`).latency.p99,
          unit: 'ms',
          what: 'bare Fastify route, same load',
        },
        limits: cpuText(halfConnections),
      },
      {
        figure: 'peak RSS of webhook-gateway under load',
        value: Math.max(...peaks.filter((m) => m.target.name === 'gateway').map((m) => m.peakRssMiB)),
        unit: 'MiB',
        goal: { comparison: '<=', target: 150, source: 'issue 13' },
        baseline: {
          value: Math.max(...peaks.filter((m) => m.target.name === 'bare').map((m) => m.peakRssMiB)),
          unit: 'MiB',
          what: 'bare Fastify route',
        },
      },
    ]);
  } finally {
    for (const child of servers) child.kill('SIGTERM');
    await gateway?.stop();
    const jsm = await nc.jetstreamManager();
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.includes(environment.natsPrefix)) {
        await jsm.streams.delete(stream.config.name).catch(() => undefined);
      }
    }
    await nc.close();
    await environment.dispose();
  }
}

runBenchmark('bench:gateway', main);
