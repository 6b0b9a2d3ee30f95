/**
 * GitLab simulator figures: bulk seeding, CPU per list and per create, webhook throughput.
 * Run after `npm run build`: `node dist/bench/gitlab-sim.bench.js` (or `npm run bench:sim`).
 * The simulator runs as its own process from dist; its CPU time is read from its /metrics
 * (process.cpuUsage inside it), so the load generator's CPU is not counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { Pool } from 'undici';

import { recordFigures, type FigureInput } from './lib/goals';
import { publishResults, runBenchmark, workspaceRoot } from './lib/results';

const SEED_COUNT = 100_000;
const LIST_CALLS = 2_000;
const CREATE_CALLS = 5_000;
const WEBHOOK_EVENTS = 20_000;
const CONCURRENCY = 16;

interface Sim {
  url: string;
  child: ChildProcess;
}

async function startSimulator(): Promise<Sim> {
  const entry = path.join(workspaceRoot(), 'dist', 'apps', 'gitlab-sim', 'src', 'main.js');
  const child = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      PORT: '0',
      GITLAB_SIM_SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      GITLAB_SIM_DELIVERY_CONCURRENCY: '64',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        if (!line.includes('"listening"')) continue;
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
  });
  return { url, child };
}

async function control<T>(sim: Sim, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sim.url}/__sim${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** CPU seconds (user + system) the simulator process has used, from its own process.cpuUsage(). */
async function simCpuSeconds(sim: Sim): Promise<number> {
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  const read = (name: string): number =>
    Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  return (
    read('gitlab_sim_process_cpu_user_seconds_total') + read('gitlab_sim_process_cpu_system_seconds_total')
  );
}

/** Runs `calls` requests with `CONCURRENCY` in flight over one keep-alive pool; returns latencies (ms). */
async function drive(
  pool: Pool,
  calls: number,
  request: (n: number) => Parameters<Pool['request']>[0],
): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const n = next++;
      const started = performance.now();
      const response = await pool.request(request(n));
      await response.body.text();
      if (response.statusCode >= 300) throw new Error(`request ${n} answered ${response.statusCode}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const fmt = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const sim = await startSimulator();
  const pool = new Pool(sim.url, { connections: CONCURRENCY });
  const rows: string[] = [];
  const figures: FigureInput[] = [];
  try {
    await control(sim, 'POST', '/users', { username: 'bench' });
    const { token } = await control<{ token: string }>(sim, 'POST', '/tokens', { username: 'bench' });
    const headers = { 'private-token': token, 'content-type': 'application/json' };

    // 1. Seed 100,000 issues.
    await control(sim, 'POST', '/projects', { path: 'bench/big' });
    await control(sim, 'POST', '/members', { project: 'bench/big', username: 'bench', accessLevel: 40 });
    const seedStarted = performance.now();
    const seeded = await control<{ created: number; ms: number }>(
      sim,
      'POST',
      '/projects/bench%2Fbig/issues/bulk',
      {
        count: SEED_COUNT,
        closedPercent: 30,
        confidentialPercent: 2,
        priorityLabelsPercent: 40,
      },
    );
    const seedWall = (performance.now() - seedStarted) / 1000;
    rows.push(
      `| Seed ${fmt(seeded.created)} issues (control API, one call) | ${fmt(seeded.ms / 1000, 2)} s in the simulator, ${fmt(seedWall, 2)} s wall |`,
    );

    // 2. List, per_page=100, over the 100,000-issue project (pages 1–50, default order).
    const listPath = (n: number) => `/api/v4/projects/bench%2Fbig/issues?per_page=100&page=${(n % 50) + 1}`;
    await drive(pool, 200, (n) => ({ method: 'GET', path: listPath(n), headers }));
    let cpuBefore = await simCpuSeconds(sim);
    let started = performance.now();
    let latencies = await drive(pool, LIST_CALLS, (n) => ({ method: 'GET', path: listPath(n), headers }));
    let elapsed = (performance.now() - started) / 1000;
    let cpuPerCall = ((await simCpuSeconds(sim)) - cpuBefore) / LIST_CALLS;
    rows.push(
      `| List issues, per_page=100, 100,000-issue project (${fmt(LIST_CALLS)} calls) | **${fmt(cpuPerCall * 1e6)} µs CPU per call** · ${fmt(LIST_CALLS / elapsed)} calls/s · p50 ${fmt(percentile(latencies, 50), 2)} ms · p99 ${fmt(percentile(latencies, 99), 2)} ms |`,
    );
    figures.push({
      figure: 'CPU per list call, per_page=100, 100,000 issues',
      value: cpuPerCall * 1e6,
      unit: 'µs',
    });

    // 2b. The incremental-sync query: updated_after, order_by=updated_at, state filter.
    const since = new Date(Date.now() - 12 * 3600_000).toISOString();
    const syncPath = (n: number) =>
      `/api/v4/projects/bench%2Fbig/issues?per_page=100&page=${(n % 20) + 1}&state=opened&order_by=updated_at&sort=asc&updated_after=${encodeURIComponent(since)}`;
    cpuBefore = await simCpuSeconds(sim);
    started = performance.now();
    latencies = await drive(pool, LIST_CALLS, (n) => ({ method: 'GET', path: syncPath(n), headers }));
    elapsed = (performance.now() - started) / 1000;
    cpuPerCall = ((await simCpuSeconds(sim)) - cpuBefore) / LIST_CALLS;
    rows.push(
      `| List with state + updated_after + order_by=updated_at, per_page=100 (${fmt(LIST_CALLS)} calls) | **${fmt(cpuPerCall * 1e6)} µs CPU per call** · ${fmt(LIST_CALLS / elapsed)} calls/s · p99 ${fmt(percentile(latencies, 99), 2)} ms |`,
    );
    figures.push({ figure: 'CPU per incremental-sync list call', value: cpuPerCall * 1e6, unit: 'µs' });

    // 3. Create issues (no hooks on the project).
    await control(sim, 'POST', '/projects', { path: 'bench/create' });
    await control(sim, 'POST', '/members', { project: 'bench/create', username: 'bench', accessLevel: 40 });
    const createBody = (n: number) =>
      JSON.stringify({
        title: `Bench issue ${n}`,
        description: 'Created by the benchmark',
        labels: 'bug,priority::high',
      });
    await drive(pool, 200, (n) => ({
      method: 'POST',
      path: '/api/v4/projects/bench%2Fcreate/issues',
      headers,
      body: createBody(n),
    }));
    cpuBefore = await simCpuSeconds(sim);
    started = performance.now();
    latencies = await drive(pool, CREATE_CALLS, (n) => ({
      method: 'POST',
      path: '/api/v4/projects/bench%2Fcreate/issues',
      headers,
      body: createBody(n),
    }));
    elapsed = (performance.now() - started) / 1000;
    cpuPerCall = ((await simCpuSeconds(sim)) - cpuBefore) / CREATE_CALLS;
    rows.push(
      `| Create issue (${fmt(CREATE_CALLS)} calls) | **${fmt(cpuPerCall * 1e6)} µs CPU per call** · ${fmt(CREATE_CALLS / elapsed)} calls/s · p50 ${fmt(percentile(latencies, 50), 2)} ms · p99 ${fmt(percentile(latencies, 99), 2)} ms |`,
    );
    figures.push({ figure: 'CPU per issue creation', value: cpuPerCall * 1e6, unit: 'µs' });

    // 4. Webhook delivery throughput to one local receiver (each issue creation = one Issue Hook).
    let received = 0;
    let firstReceived = 0;
    let lastReceived = 0;
    const receiver = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        received += 1;
        lastReceived = performance.now();
        if (received === 1) firstReceived = lastReceived;
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    receiver.keepAliveTimeout = 10_000;
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await control(sim, 'POST', '/projects', { path: 'bench/hooks' });
    await control(sim, 'POST', '/members', { project: 'bench/hooks', username: 'bench', accessLevel: 40 });
    const hookResponse = await pool.request({
      method: 'POST',
      path: '/api/v4/projects/bench%2Fhooks/hooks',
      headers,
      body: JSON.stringify({
        url: receiverUrl,
        push_events: false,
        issues_events: true,
        token: 'bench-secret',
      }),
    });
    await hookResponse.body.text();
    cpuBefore = await simCpuSeconds(sim);
    started = performance.now();
    await drive(pool, WEBHOOK_EVENTS, (n) => ({
      method: 'POST',
      path: '/api/v4/projects/bench%2Fhooks/issues',
      headers,
      body: JSON.stringify({ title: `Event ${n}` }),
    }));
    const eventsFired = performance.now();
    await control(sim, 'POST', '/deliveries/flush', {});
    const allDelivered = performance.now();
    const cpuPerEvent = ((await simCpuSeconds(sim)) - cpuBefore) / WEBHOOK_EVENTS;
    let deliveries = await control<Array<{ outcome: string }>>(
      sim,
      'GET',
      '/deliveries?project=bench%2Fhooks&limit=50000',
    );
    let failed = deliveries.filter((delivery) => delivery.outcome !== 'success').length;
    rows.push(
      `| REST create → Issue Hook, end to end (${fmt(WEBHOOK_EVENTS)} creates, ${CONCURRENCY} in flight) | ${fmt(received / ((lastReceived - firstReceived) / 1000))} deliveries/s (${fmt(received)} received, ${failed} failed), as fast as the creates arrive (${fmt(WEBHOOK_EVENTS / ((eventsFired - started) / 1000))}/s) · last delivery ${fmt(allDelivered - eventsFired)} ms after the last create · ${fmt(cpuPerEvent * 1e6)} µs simulator CPU per event (create + delivery) |`,
    );

    // 4b. Delivery throughput alone: events produced inside the simulator (control API burst).
    received = 0;
    cpuBefore = await simCpuSeconds(sim);
    await control(sim, 'POST', '/projects/bench%2Fhooks/burst', {
      as: 'bench',
      count: WEBHOOK_EVENTS,
      action: 'update',
    });
    await control(sim, 'POST', '/deliveries/flush', {});
    const cpuPerDelivery = ((await simCpuSeconds(sim)) - cpuBefore) / WEBHOOK_EVENTS;
    receiver.close();
    deliveries = await control<Array<{ outcome: string }>>(
      sim,
      'GET',
      `/deliveries?project=bench%2Fhooks&limit=${WEBHOOK_EVENTS}`,
    );
    failed = deliveries.filter((delivery) => delivery.outcome !== 'success').length;
    rows.push(
      `| Webhook delivery to one local receiver (${fmt(WEBHOOK_EVENTS)} Issue Hook \`update\` events from one control-API burst) | **${fmt(received / ((lastReceived - firstReceived) / 1000))} deliveries/s** (${fmt(received)} received, ${failed} failed) · ${fmt(cpuPerDelivery * 1e6)} µs simulator CPU per event (update + payload + delivery) |`,
    );
    figures.push(
      {
        figure: 'webhook deliveries/s to one local receiver',
        value: received / ((lastReceived - firstReceived) / 1000),
        unit: 'deliveries/s',
      },
      {
        figure: 'CPU per delivered webhook (update + payload + delivery)',
        value: cpuPerDelivery * 1e6,
        unit: 'µs',
      },
    );
  } finally {
    await pool.close();
    sim.child.kill('SIGTERM');
    await once(sim.child, 'exit');
  }

  const markdown = [
    '### GitLab simulator (`node dist/bench/gitlab-sim.bench.js`)',
    '',
    `The simulator runs as its own process from dist; CPU figures are its own process.cpuUsage() (read from its /metrics) divided by the number of calls. Load: ${CONCURRENCY} concurrent keep-alive requests from the benchmark process (undici), on the same machine.`,
    '',
    '| What | Result |',
    '|---|---|',
    ...rows,
  ].join('\n');
  publishResults('gitlab-sim', markdown);
  recordFigures('sim', 'gitlab-sim', figures);
}

runBenchmark('bench:sim', main);
