import type { Client } from 'pg';

import type { RoundResult } from '../database/advisory-lock-leader';
import { assertIdentifier } from '../database/data-source.factory';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { EventPublisher } from './event-publisher';
import { Inbox, INBOX_RETENTION_DAYS } from './inbox';
import { LeaderRelay } from './leader-relay';
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
  /** How long the schema's inbox remembers processed event ids (default 30 days). */
  inboxRetentionDays?: number;
  applicationName?: string;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  headers: Record<string, string>;
  payload: string;
  created_at: Date;
}

/**
 * Publishes committed outbox rows to JetStream in id order and marks them sent. One replica per
 * schema leads ({@link LeaderRelay}), woken by the NOTIFY each committing transaction
 * sends. Each row is published with its event id as Nats-Msg-Id, so a leader that dies between
 * publishing and marking causes no duplicate: the next leader's re-publish is deduplicated.
 */
export class OutboxRelay extends LeaderRelay {
  private readonly publisher: EventPublisher;
  private readonly table: string;
  private readonly inbox: Inbox;
  private readonly batchSize: number;
  private readonly published;
  private readonly lag;
  private lastPurge = 0;

  constructor(
    private readonly settings: OutboxRelaySettings,
    private readonly nats: NatsClient,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    super(
      {
        databaseUrl: settings.databaseUrl,
        lockKey: `outbox:${settings.schema}`,
        applicationName: settings.applicationName ?? `outbox-relay-${settings.schema}`,
        pollIntervalMs: settings.pollIntervalMs ?? 1_000,
      },
      { name: 'outbox_relay_leader', help: '1 when this replica publishes the outbox' },
      nats,
      logger,
      metrics,
    );
    this.publisher = new EventPublisher(nats);
    this.table = `"${assertIdentifier(settings.schema)}".outbox`;
    this.inbox = new Inbox(settings.schema);
    this.batchSize = settings.batchSize ?? 500;
    this.published = metrics.counter('outbox_published_total', 'Outbox events published to JetStream');
    this.lag = metrics.histogram(
      'outbox_publish_lag_seconds',
      'From commit of the event row to its JetStream ack',
    );
  }

  /** Every committing transaction's NOTIFY wakes the leader (the same-process shortcut: `wake()`). */
  protected override async onLeading(client: Client): Promise<void> {
    await client.query(`LISTEN "${outboxChannel(this.settings.schema)}"`);
    client.on('notification', () => this.wake());
  }

  protected override async round(client: Client): Promise<RoundResult> {
    const next = await this.drain(client);
    await this.purgeOld(client);
    return next;
  }

  private async drain(client: Client): Promise<RoundResult> {
    if (!this.nats.isConnected) return 'idle';
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, event_id, subject, headers, payload, created_at FROM ${this.table}
        WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 'idle';
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
      return 'backoff';
    }
    return rows.length < this.batchSize ? 'idle' : 'again';
  }

  /**
   * Every 10 minutes, on the leader only: published outbox rows past their retention, and inbox
   * entries past theirs (30 days, far longer than any redelivery or replay), so every service's
   * schema stays bounded without a job of its own.
   */
  private async purgeOld(client: Client): Promise<void> {
    if (Date.now() - this.lastPurge < 10 * 60_000) return;
    this.lastPurge = Date.now();
    await client.query(`DELETE FROM ${this.table} WHERE published_at < now() - make_interval(days => $1)`, [
      this.settings.retentionDays ?? 7,
    ]);
    const removed = await this.inbox.purge(
      async (text, values) => (await client.query(text, values)).rowCount ?? 0,
      this.settings.inboxRetentionDays ?? INBOX_RETENTION_DAYS,
    );
    if (removed > 0) this.logger.info({ removed, schema: this.settings.schema }, 'old inbox entries purged');
  }

  /** Number of rows not yet published (for metrics and readiness details), when leading. */
  async pending(): Promise<number | undefined> {
    const client = this.leaderConnection;
    if (!client) return undefined;
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.table} WHERE published_at IS NULL`,
    );
    return Number(rows[0]?.count ?? 0);
  }
}
