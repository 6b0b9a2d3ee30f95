import type { Client } from 'pg';

import type { RoundResult } from '../database/advisory-lock-leader';
import { assertIdentifier } from '../database/data-source.factory';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { contextFromStored } from '../telemetry/tracing';
import { EventPublisher } from './event-publisher';
import { LeaderRelay } from './leader-relay';
import type { NatsClient } from './nats-client';
import { outboxChannel } from './outbox';

export interface OutboxRelaySettings {
  databaseUrl: string;
  schema: string;
  /** Rows published per round trip (default 500). */
  batchSize?: number;
  /**
   * Payload bytes read and published per round trip (default {@link OUTBOX_BATCH_BYTES}); a round
   * takes at least one row, however large. Rows are up to MAX_OUTBOX_EVENT_BYTES each, so without
   * it a round of 500 could hold hundreds of MiB (docs/RUNBOOK.md, "Memory").
   */
  batchBytes?: number;
  /** Fallback poll when no NOTIFY arrives (e.g. rows left by a crashed leader). */
  pollIntervalMs?: number;
  /**
   * Failed publishes of one row, each while later rows went through, before it is parked (default
   * 5). A row that can never be published (over `max_payload`) is parked at its first failure.
   */
  maxAttempts?: number;
  applicationName?: string;
}

/** Default payload bytes of one relay round: 500 typical events of a few KiB, or five of the largest. */
export const OUTBOX_BATCH_BYTES = 4 * 1024 * 1024;

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  headers: Record<string, string>;
  payload: string;
  created_at: Date;
  attempts: number;
  traceparent: string | null;
  tracestate: string | null;
  /** Unpublished rows the round looked at (at most batchSize), of which the byte bound kept `rows`. */
  candidates: string;
}

/**
 * Why a publish can never succeed however often it is retried, or undefined for a failure that
 * may pass (a timeout, no stream yet, NATS restarting): over the server's `max_payload` (refused
 * by the client before sending) or over the stream's maximum message size.
 */
export function permanentPublishFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'MAX_PAYLOAD_EXCEEDED') return 'MAX_PAYLOAD_EXCEEDED';
  if (/message size exceeds maximum/i.test(String((error as Error | null)?.message))) {
    return 'MESSAGE_SIZE_EXCEEDED';
  }
  return undefined;
}

const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 2_000);

/**
 * Publishes committed outbox rows to JetStream in id order and marks them sent. One replica per
 * schema leads ({@link LeaderRelay}), woken by the NOTIFY each committing transaction
 * sends. Each row is published with its event id as Nats-Msg-Id, so a leader that dies between
 * publishing and marking causes no duplicate: the next leader's re-publish is deduplicated.
 *
 * One row never holds up the rows after it: the rows of a round that went through are marked even
 * when an earlier one failed (ordering is not assumed, docs/ARCHITECTURE.md, "Messaging"), and a row
 * that cannot be published is **parked** (`parked_at`, `park_reason`) — at once when it never can be
 * (over `max_payload`), else after `maxAttempts` failures while later rows went through. A failure of
 * every row (NATS in trouble) parks nothing. Parked rows are counted (`outbox_parked_total`,
 * `outbox_parked_rows`) and given back by `replayParkedOutboxRows` (outbox-admin.ts).
 */
export class OutboxRelay extends LeaderRelay {
  private readonly publisher: EventPublisher;
  private readonly table: string;
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly maxAttempts: number;
  private readonly published;
  private readonly lag;
  private readonly parkedTotal;
  private readonly parkedRows;
  private lastParkedCount = 0;

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
    this.batchSize = settings.batchSize ?? 500;
    this.batchBytes = Math.max(1, settings.batchBytes ?? OUTBOX_BATCH_BYTES);
    this.maxAttempts = Math.max(1, settings.maxAttempts ?? 5);
    this.published = metrics.counter('outbox_published_total', 'Outbox events published to JetStream');
    this.lag = metrics.histogram(
      'outbox_publish_lag_seconds',
      'From commit of the event row to its JetStream ack',
    );
    this.parkedTotal = metrics.counter(
      'outbox_parked_total',
      'Outbox rows parked because they could not be published, by reason',
      ['reason'],
    );
    this.parkedRows = metrics.gauge(
      'outbox_parked_rows',
      'Outbox rows parked and not replayed (as last seen by the leader)',
    );
    this.parkedRows.set(0);
  }

  /** Every committing transaction's NOTIFY wakes the leader (the same-process shortcut: `wake()`). */
  protected override async onLeading(client: Client): Promise<void> {
    await client.query(`LISTEN "${outboxChannel(this.settings.schema)}"`);
    client.on('notification', () => this.wake());
  }

  protected override onLeadershipLost(): void {
    this.parkedRows.set(0);
    this.lastParkedCount = 0;
  }

  /** Old rows are purged by {@link MessagingRetention}, on its own connection, never in a round. */
  protected override async round(client: Client): Promise<RoundResult> {
    await this.refreshParkedCount(client, false);
    if (!this.nats.isConnected) return 'idle';
    // The next batchSize rows, cut where their payloads pass batchBytes (the first row always
    // stays). octet_length reads a TOASTed value's size without decompressing it.
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, event_id, subject, headers, payload, created_at, attempts, traceparent, tracestate,
              candidates
         FROM (SELECT due.*, sum(octet_length(payload)) OVER (ORDER BY id) AS upto,
                      row_number() OVER (ORDER BY id) AS position, count(*) OVER () AS candidates
                 FROM (SELECT id, event_id, subject, headers, payload, created_at, attempts,
                              traceparent, tracestate
                         FROM ${this.table}
                        WHERE published_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1) AS due
              ) AS sized
        WHERE upto <= $2 OR position = 1
        ORDER BY id`,
      [this.batchSize, this.batchBytes],
    );
    if (rows.length === 0) return 'idle';
    // Publishes are pipelined on one connection, so JetStream stores them in this order. Each
    // producer span is a child of the work that staged the row (a new root if there was none).
    const results = await Promise.allSettled(
      rows.map((row) =>
        this.publisher.publishRaw(row.subject, row.payload, {
          msgId: row.event_id,
          headers: row.headers,
          parent: contextFromStored(row),
        }),
      ),
    );
    const sent: OutboxRow[] = [];
    const failed: Array<{ row: OutboxRow; error: unknown }> = [];
    rows.forEach((row, index) => {
      const result = results[index];
      if (result?.status === 'fulfilled') sent.push(row);
      else failed.push({ row, error: result?.reason });
    });
    if (sent.length > 0) {
      await client.query(`UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        sent.map((row) => row.id),
      ]);
      this.published.inc(sent.length);
      const now = Date.now();
      for (const row of sent) this.lag.observe((now - row.created_at.getTime()) / 1000);
    }
    const candidates = Number(rows[0]?.candidates ?? 0);
    if (failed.length === 0) {
      return candidates >= this.batchSize || rows.length < candidates ? 'again' : 'idle';
    }
    let retrying = 0;
    for (const { row, error } of failed) {
      const permanent = permanentPublishFailure(error);
      // Counted only when other rows went through: a failure of every row is NATS', not the row's.
      const counted = permanent !== undefined || sent.length > 0;
      const attempts = row.attempts + (counted ? 1 : 0);
      const reason =
        permanent ?? (counted && attempts >= this.maxAttempts ? `FAILED_${attempts}_TIMES` : undefined);
      if (reason) {
        await client.query(
          `UPDATE ${this.table} SET attempts = $2, last_error = $3, parked_at = now(), park_reason = $4
            WHERE id = $1`,
          [row.id, attempts, errorText(error), reason],
        );
        this.parkedTotal.inc({ reason: permanent ? permanent : 'repeated_failures' });
        this.logger.error(
          {
            err: error,
            schema: this.settings.schema,
            outboxId: row.id,
            eventId: row.event_id,
            subject: row.subject,
            bytes: Buffer.byteLength(row.payload, 'utf8'),
            reason,
          },
          'outbox row parked: it cannot be published; later rows go on (replay: outbox-admin)',
        );
      } else {
        retrying += 1;
        await client.query(`UPDATE ${this.table} SET attempts = $2, last_error = $3 WHERE id = $1`, [
          row.id,
          attempts,
          errorText(error),
        ]);
      }
    }
    await this.refreshParkedCount(client, retrying < failed.length);
    if (retrying > 0) {
      const first = failed.find(({ error }) => !permanentPublishFailure(error));
      this.logger.warn(
        { err: first?.error, schema: this.settings.schema, failed: retrying },
        'outbox publish failed; will retry',
      );
      return 'backoff';
    }
    return 'again';
  }

  /** Sets `outbox_parked_rows` after a row was parked, and once a minute (a replay shows within one). */
  private async refreshParkedCount(client: Client, parkedNow: boolean): Promise<void> {
    if (!parkedNow && Date.now() - this.lastParkedCount < 60_000) return;
    this.lastParkedCount = Date.now();
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.table} WHERE parked_at IS NOT NULL AND published_at IS NULL`,
    );
    this.parkedRows.set(Number(rows[0]?.count ?? 0));
  }

  /** Number of rows waiting to be published, parked ones not counted (metrics, readiness), when leading. */
  async pending(): Promise<number | undefined> {
    const client = this.leaderConnection;
    if (!client) return undefined;
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${this.table} WHERE published_at IS NULL AND parked_at IS NULL`,
    );
    return Number(rows[0]?.count ?? 0);
  }
}
