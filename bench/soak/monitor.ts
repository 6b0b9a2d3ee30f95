import { connect, type NatsConnection, type Subscription } from 'nats';

import type { SimApiRequest } from '@testkase/testing';

import { pidsOf, processCpuSeconds } from '../lib/sync-stack';
import type { Topology } from './topology';
import { sleep, type World } from './world';

/** Counters the soak reads from every process's /metrics: `name{labels}` → value. */
const SCRAPED = [
  'gateway_deliveries_total',
  'requirement_sync_issue_events_total',
  'defect_sync_issue_events_total',
  'comment_relay_note_events_total',
  'requirement_sync_reconciliation_repairs_total',
  'comment_relay_repairs_total',
  'gitlab_rate_limited_total',
  'messages_handled_total',
  'outbox_parked_total',
  'gitlab_sim_webhook_deliveries_total',
  'gitlab_sim_faults_injected_total',
];

/**
 * What the soak watches while it runs: each process's counters (the last scrape of every pid is
 * kept, so a killed replica's counts stay, less what it counted after its last scrape), the
 * backlog of every durable consumer, the simulator's request log (polled, so that its ring buffer
 * never drops a write), the lag of every `testkase.requirement.upserted` (received live), and CPU.
 */
export class Monitor {
  private readonly lastByPid = new Map<number, Map<string, number>>();
  readonly requests = new Map<number, SimApiRequest>();
  private requestCursor = 0;
  readonly lags: number[] = [];
  /** Failed deliveries by cause (the receiver's status, or the error), polled from the simulator. */
  readonly failures = new Map<number, string>();
  private failureCursor = 0;
  maxBacklog = { consumer: '', pending: 0, at: 0 };
  private readonly cpuByPid = new Map<number, { id: string; seconds: number }>();
  private nc?: NatsConnection;
  private sub?: Subscription;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly world: World,
    private readonly topology: Topology,
  ) {}

  async start(startedAt: number): Promise<void> {
    this.nc = await connect({
      servers: this.topology.nats.nodeUrls,
      name: 'soak-monitor',
      maxReconnectAttempts: -1,
    });
    this.sub = this.nc.subscribe('testkase.requirement.upserted');
    void (async () => {
      for await (const message of this.sub!) {
        try {
          const event = JSON.parse(new TextDecoder().decode(message.data)) as {
            data?: { requirement?: { gitlabUpdatedAt?: string } };
          };
          const updated = Date.parse(event.data?.requirement?.gitlabUpdatedAt ?? '');
          if (Number.isFinite(updated)) this.lags.push(Date.now() - updated);
        } catch {
          // not an event
        }
      }
    })();
    this.loops.push(this.every(5_000, () => this.scrape()));
    this.loops.push(this.every(5_000, () => this.sampleBacklog(startedAt)));
    this.loops.push(this.every(10_000, () => this.pollRequests()));
    this.loops.push(this.every(10_000, () => this.pollFailures()));
    this.loops.push(this.every(2_000, () => this.sampleCpu()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
    await this.scrape();
    await this.pollRequests();
    await this.pollFailures().catch(() => undefined);
    this.sampleCpu();
    this.sub?.unsubscribe();
    await this.nc?.close().catch(() => undefined);
  }

  private async every(ms: number, task: () => Promise<void> | void): Promise<void> {
    while (!this.stopped) {
      await Promise.resolve()
        .then(task)
        .catch(() => undefined);
      for (let waited = 0; waited < ms && !this.stopped; waited += 250) await sleep(250);
    }
  }

  async scrape(): Promise<void> {
    await Promise.all(
      this.topology.processes().map(async (process) => {
        const text = await fetch(`${process.url}/metrics`, { signal: AbortSignal.timeout(5_000) })
          .then((response) => response.text())
          .catch(() => undefined);
        if (!text) return;
        const values = new Map<string, number>();
        for (const line of text.split('\n')) {
          if (line.startsWith('#')) continue;
          const name = line.slice(0, line.search(/[{ ]/));
          if (!SCRAPED.includes(name)) continue;
          const key = line.slice(0, line.lastIndexOf(' ')).replace(/,?service="[^"]*"/, '');
          values.set(key, Number(line.slice(line.lastIndexOf(' ') + 1)));
        }
        this.lastByPid.set(process.pid, values);
      }),
    );
  }

  /** Sum over every process ever scraped of the series of `name` whose labels match. */
  counter(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const values of this.lastByPid.values()) {
      for (const [key, value] of values) {
        if (!key.startsWith(`${name}{`) && key !== name) continue;
        if (Object.entries(labels).every(([label, expected]) => key.includes(`${label}="${expected}"`)))
          total += value;
      }
    }
    return total;
  }

  /** Sums by one label's value. */
  counterBy(name: string, label: string, labels: Record<string, string> = {}): Map<string, number> {
    const out = new Map<string, number>();
    for (const values of this.lastByPid.values()) {
      for (const [key, value] of values) {
        if (!key.startsWith(`${name}{`)) continue;
        if (!Object.entries(labels).every(([l, expected]) => key.includes(`${l}="${expected}"`))) continue;
        const which = new RegExp(`${label}="([^"]*)"`).exec(key)?.[1] ?? '';
        out.set(which, (out.get(which) ?? 0) + value);
      }
    }
    return out;
  }

  private async sampleBacklog(startedAt: number): Promise<void> {
    if (!this.nc) return;
    const jsm = await this.nc.jetstreamManager({ timeout: 3_000 });
    for await (const consumer of jsm.consumers.list('GITLAB_EVENTS')) {
      const pending = consumer.num_pending + consumer.num_ack_pending;
      if (pending > this.maxBacklog.pending)
        this.maxBacklog = { consumer: consumer.name, pending, at: Date.now() - startedAt };
    }
  }

  async pollRequests(): Promise<void> {
    const requests = await this.world.sim.apiRequests({ since: this.requestCursor, limit: 100_000 });
    let unanswered = Number.POSITIVE_INFINITY;
    let newest = this.requestCursor;
    for (const request of requests) {
      this.requests.set(request.id, request);
      if (request.status === null && request.at > Date.now() - 60_000)
        unanswered = Math.min(unanswered, request.at);
      newest = Math.max(newest, request.at);
    }
    // Read again from the oldest request still unanswered (its status comes later).
    this.requestCursor = Number.isFinite(unanswered) ? unanswered : newest;
  }

  async pollFailures(): Promise<void> {
    const failed = await this.world.sim.deliveries({
      outcome: 'failure',
      since: this.failureCursor,
      limit: 5_000,
    });
    for (const delivery of failed) {
      this.failures.set(
        delivery.id,
        delivery.responseStatus !== null
          ? `HTTP ${delivery.responseStatus}`
          : (delivery.error ?? 'no answer').slice(0, 60),
      );
      this.failureCursor = Math.max(this.failureCursor, delivery.sentAt);
    }
  }

  failureCauses(): string {
    const causes = new Map<string, number>();
    for (const cause of this.failures.values()) causes.set(cause, (causes.get(cause) ?? 0) + 1);
    return [...causes]
      .sort((a, b) => b[1] - a[1])
      .map(([cause, count]) => `${cause} ×${count}`)
      .join(', ');
  }

  private sampleCpu(): void {
    const pids = [
      ...this.topology.processes().map((process) => ({ id: process.id, pid: process.pid })),
      ...pidsOf('nats-server', this.topology.nats.name).map((pid) => ({ id: 'nats-server', pid })),
      ...pidsOf('postgres', 'soak').map((pid) => ({ id: 'postgres (backends)', pid })),
    ];
    for (const { id, pid } of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds > 0) this.cpuByPid.set(pid, { id, seconds });
    }
  }

  /** CPU seconds used by each service (all its replicas and restarts) and the simulator. */
  cpu(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { id, seconds } of this.cpuByPid.values()) {
      const app = id.replace(/#\d+$/, '');
      out.set(app, (out.get(app) ?? 0) + seconds);
    }
    return out;
  }
}
