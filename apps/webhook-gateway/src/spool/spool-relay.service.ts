import type { Client } from 'pg';

import {
  LeaderRelay,
  type Logger,
  type MetricsRegistry,
  type NatsClient,
  type RoundResult,
} from '@testkase/platform';

import {
  MessageHeaders,
  type PipelinedJetStreamPublisher,
  type PublishOutcome,
} from '../messaging/pipelined-publisher.adapter';
import { SCHEMA } from '../persistence/schema';
import { SPOOL_TABLE } from './spool.repository';

export interface SpoolRelaySettings {
  databaseUrl: string;
  batchSize: number;
  pollIntervalMs: number;
  /** How long a parked row is kept before it is deleted. */
  parkedRetentionMs: number;
}

/** Longest pause between two purges of expired parked rows. */
const PURGE_INTERVAL_MS = 60_000;

interface SpoolRow {
  id: string;
  subject: string;
  msg_id: string;
  headers: Record<string, string>;
  body: Buffer;
}

const LOCK_KEY = `spool-relay:${SCHEMA}`;

/**
 * Drains the spool into JetStream once NATS is back: rows in id order (each batch pipelined on one
 * connection, so JetStream stores them in that order), each deleted only after its ack, and
 * published with its original Nats-Msg-Id, so that a row published twice (a leader that died
 * between ack and delete, or a late ack of the first attempt) is stored once. One replica leads
 * ({@link LeaderRelay}); the others stand by.
 */
export class SpoolRelay extends LeaderRelay {
  private depthReportedAt = 0;
  private purgedAt = 0;
  private readonly parkedRetentionMs: number;
  private readonly purged;
  private readonly batchSize: number;
  private readonly relayed;
  private readonly parked;
  private readonly depth;

  constructor(
    settings: SpoolRelaySettings,
    private readonly publisher: PipelinedJetStreamPublisher,
    private readonly nats: NatsClient,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    super(
      {
        databaseUrl: settings.databaseUrl,
        lockKey: LOCK_KEY,
        applicationName: 'webhook-gateway-spool-relay',
        pollIntervalMs: settings.pollIntervalMs,
      },
      { name: 'gateway_spool_relay_leader', help: '1 when this replica drains the spool' },
      nats,
      logger,
      metrics,
    );
    this.batchSize = settings.batchSize;
    this.parkedRetentionMs = settings.parkedRetentionMs;
    this.purged = metrics.counter(
      'gateway_spool_purged_total',
      'Parked deliveries deleted from the spool after SPOOL_PARKED_RETENTION',
    );
    this.relayed = metrics.counter(
      'gateway_spool_relayed_total',
      'Spooled deliveries published to JetStream',
    );
    this.parked = metrics.counter(
      'gateway_spool_parked_total',
      'Spooled deliveries that cannot be published (kept in the spool with parked_at set)',
    );
    this.depth = metrics.gauge('gateway_spool_depth', 'Rows in the spool (reported by the relay leader)', [
      'state',
    ]);
  }

  protected override async round(client: Client): Promise<RoundResult> {
    const batchSize = this.batchSize;
    const drained = this.nats.isConnected ? await this.drain(client, batchSize) : true;
    await this.purgeExpired(client);
    await this.reportDepth(client);
    return drained ? 'idle' : 'backoff';
  }

  /** Publishes batches until the spool is empty (true) or a publish fails (false). */
  private async drain(client: Client, batchSize: number): Promise<boolean> {
    while (this.nats.isConnected) {
      const { rows } = await client.query<SpoolRow>(
        `SELECT id, subject, msg_id, headers, body FROM ${SPOOL_TABLE}
          WHERE parked_at IS NULL ORDER BY id LIMIT $1`,
        [batchSize],
      );
      if (rows.length === 0) return true;
      // Publishes are started in row order within one turn, so they are written in that order.
      const outcomes = await Promise.all(rows.map((row) => this.publish(row)));
      const done: string[] = [];
      let failed: { row: SpoolRow; detail: string } | undefined;
      for (const [index, outcome] of outcomes.entries()) {
        const row = rows[index];
        if (outcome.ok) {
          done.push(row.id);
        } else if (outcome.reason === 'too_large') {
          await this.park(client, row, outcome.detail ?? 'too large for NATS');
        } else {
          // Stop at the first failure so that the rest keeps its order behind it.
          failed = { row, detail: outcome.detail ?? outcome.reason };
          break;
        }
      }
      if (done.length > 0) {
        await client.query(`DELETE FROM ${SPOOL_TABLE} WHERE id = ANY($1::bigint[])`, [done]);
        this.relayed.inc(done.length);
      }
      if (failed) {
        await client.query(
          `UPDATE ${SPOOL_TABLE} SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
          [failed.row.id, failed.detail],
        );
        this.logger.warn(
          { msgId: failed.row.msg_id, reason: failed.detail },
          'spool relay publish failed; will retry',
        );
        return false;
      }
      if (rows.length < batchSize) return true;
    }
    return true;
  }

  private publish(row: SpoolRow): Promise<PublishOutcome> {
    let headers: MessageHeaders;
    try {
      headers = new MessageHeaders({ ...row.headers, 'Nats-Msg-Id': row.msg_id });
    } catch (error) {
      // A row edited by hand into something NATS cannot carry: never publishable as it is.
      return Promise.resolve({ ok: false, reason: 'too_large', detail: (error as Error).message });
    }
    return this.publisher.publishAsync(this.nats.naming.subject(row.subject), row.body, headers);
  }

  private async park(client: Client, row: SpoolRow, reason: string): Promise<void> {
    await client.query(`UPDATE ${SPOOL_TABLE} SET parked_at = now(), last_error = $2 WHERE id = $1`, [
      row.id,
      reason,
    ]);
    this.parked.inc();
    this.logger.error(
      { msgId: row.msg_id, subject: row.subject, reason },
      'spooled delivery cannot be published; parked in the spool',
    );
  }

  /**
   * Deletes parked rows older than the retention, at most every minute (more often for a shorter
   * retention). Parked rows are bounded by their quota, so one statement is small.
   */
  private async purgeExpired(client: Client): Promise<void> {
    if (Date.now() - this.purgedAt < Math.min(PURGE_INTERVAL_MS, this.parkedRetentionMs)) return;
    this.purgedAt = Date.now();
    const { rows } = await client.query<{ msg_id: string; subject: string }>(
      `DELETE FROM ${SPOOL_TABLE}
        WHERE parked_at IS NOT NULL AND parked_at < now() - $1 * interval '1 millisecond'
       RETURNING msg_id, subject`,
      [this.parkedRetentionMs],
    );
    if (rows.length === 0) return;
    this.purged.inc(rows.length);
    this.depthReportedAt = 0;
    this.logger.warn(
      { count: rows.length, msgIds: rows.slice(0, 20).map((row) => row.msg_id) },
      'parked deliveries older than SPOOL_PARKED_RETENTION deleted from the spool',
    );
  }

  private async reportDepth(client: Client): Promise<void> {
    if (Date.now() - this.depthReportedAt < 1_000) return;
    this.depthReportedAt = Date.now();
    const { rows } = await client.query<{ pending: string; parked: string }>(
      `SELECT count(*) FILTER (WHERE parked_at IS NULL) AS pending,
              count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked FROM ${SPOOL_TABLE}`,
    );
    this.depth.set({ state: 'pending' }, Number(rows[0]?.pending ?? 0));
    this.depth.set({ state: 'parked' }, Number(rows[0]?.parked ?? 0));
  }
}
