import { Client } from 'pg';

import { jitteredBackoff, sleep, withTimeout } from '@testkase/util';

import { assertIdentifier } from '../database/data-source.factory';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { EventPublisher } from './event-publisher';
import type { NatsClient } from './nats-client';
import { outboxChannel } from './outbox';

export interface OutboxRelaySettings {
  databaseUrl: string;
  schema: string;
  /** Rows published per round trip. */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (e.g. rows left by a crashed leader). */
  pollIntervalMs?: number;
  /** How long published rows are kept for inspection. */
  retentionDays?: number;
  applicationName?: string;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  headers: Record<string, string>;
  payload: string;
}

/**
 * Publishes committed outbox rows to JetStream in id order and marks them sent. One replica per
 * schema leads (a session advisory lock); the others stand by and take over when its connection
 * goes. Each row is published with its event id as Nats-Msg-Id, so a leader that dies between
 * publishing and marking causes no duplicate: the next leader's re-publish is deduplicated.
 */
export class OutboxRelay {
  private stopped = false;
  private readonly abort = new AbortController();
  private client?: Client;
  private wakeUp?: () => void;
  private pendingWake = false;
  private loop?: Promise<void>;
  private leading = false;
  private readonly publisher: EventPublisher;
  private readonly table: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly published;
  private readonly lag;
  private readonly leaderGauge;
  private lastPurge = 0;

  constructor(
    private readonly settings: OutboxRelaySettings,
    private readonly nats: NatsClient,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.publisher = new EventPublisher(nats);
    this.table = `"${assertIdentifier(settings.schema)}".outbox`;
    this.batchSize = settings.batchSize ?? 500;
    this.pollIntervalMs = settings.pollIntervalMs ?? 1_000;
    this.published = metrics.counter('outbox_published_total', 'Outbox events published to JetStream');
    this.lag = metrics.histogram(
      'outbox_publish_lag_seconds',
      'From commit of the event row to its JetStream ack',
    );
    this.leaderGauge = metrics.gauge('outbox_relay_leader', '1 when this replica publishes the outbox');
    this.nats.onConnected(() => this.wake());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Asks the relay to look for new rows now (the same-process shortcut for NOTIFY). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.leadWhilePossible();
        attempt = 0;
      } catch (error) {
        if (this.stopped) break;
        attempt += 1;
        this.logger.warn(
          { err: error, schema: this.settings.schema },
          'outbox relay lost its database connection',
        );
      } finally {
        this.setLeading(false);
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
      }
      if (!this.stopped)
        await sleep(jitteredBackoff(attempt, 500, 5_000, 250), this.abort.signal).catch(() => undefined);
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.leaderGauge.set(leading ? 1 : 0);
  }

  private async leadWhilePossible(): Promise<void> {
    const client = new Client({
      connectionString: this.settings.databaseUrl,
      application_name: this.settings.applicationName ?? `outbox-relay-${this.settings.schema}`,
      connectionTimeoutMillis: 5_000,
    });
    this.client = client;
    let connectionError: Error | undefined;
    client.on('error', (error) => {
      connectionError = error;
      this.wakeUp?.();
    });
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [`outbox:${this.settings.schema}`],
    );
    if (!rows[0]?.locked) return; // another replica leads; try again later
    this.setLeading(true);
    await client.query(`LISTEN "${outboxChannel(this.settings.schema)}"`);
    client.on('notification', () => this.wake());
    this.logger.info({ schema: this.settings.schema }, 'outbox relay is leading');
    while (!this.stopped) {
      if (connectionError) throw connectionError;
      this.pendingWake = false;
      await this.drain(client);
      await this.purgeOld(client);
      if (!this.pendingWake) await this.waitForWake();
    }
  }

  private waitForWake(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  private async drain(client: Client): Promise<void> {
    while (!this.stopped && this.nats.isConnected) {
      const { rows } = await client.query<OutboxRow & { created_at: Date }>(
        `SELECT id, event_id, subject, headers, payload, created_at FROM ${this.table}
          WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [this.batchSize],
      );
      if (rows.length === 0) return;
      // Publishes are pipelined on one connection, so JetStream stores them in this order.
      const results = await Promise.allSettled(
        rows.map((row) =>
          this.publisher.publishRaw(row.subject, row.payload, { msgId: row.event_id, headers: row.headers }),
        ),
      );
      const firstFailure = results.findIndex((result) => result.status === 'rejected');
      const sent = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
      if (sent.length > 0) {
        await client.query(`UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
          sent.map((row) => row.id),
        ]);
        this.published.inc(sent.length);
        const now = Date.now();
        for (const row of sent) this.lag.observe((now - row.created_at.getTime()) / 1000);
      }
      if (firstFailure !== -1) {
        const reason = (results[firstFailure] as PromiseRejectedResult).reason as Error;
        this.logger.warn({ err: reason, schema: this.settings.schema }, 'outbox publish failed; will retry');
        await sleep(500, this.abort.signal).catch(() => undefined);
        return;
      }
      if (rows.length < this.batchSize) return;
    }
  }

  private async purgeOld(client: Client): Promise<void> {
    if (Date.now() - this.lastPurge < 10 * 60_000) return;
    this.lastPurge = Date.now();
    await client.query(`DELETE FROM ${this.table} WHERE published_at < now() - make_interval(days => $1)`, [
      this.settings.retentionDays ?? 7,
    ]);
  }

  /** Number of rows not yet published (for metrics and readiness details). */
  async pending(): Promise<number | undefined> {
    if (!this.client || !this.leading) return undefined;
    const { rows } = await this.client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.table} WHERE published_at IS NULL`,
    );
    return Number(rows[0]?.count ?? 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wakeUp?.();
    await withTimeout(this.loop, 3_000);
    await this.client?.end().catch(() => undefined);
  }
}
