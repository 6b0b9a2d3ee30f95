import type { Client } from 'pg';

import { sleep } from '@testkase/util';

import { AdvisoryLockLeader, type RoundResult } from '../database/advisory-lock-leader';
import { assertIdentifier } from '../database/data-source.factory';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { Inbox, INBOX_RETENTION_DAYS } from './inbox';

/** How long published outbox rows are kept for inspection. */
export const OUTBOX_RETENTION_DAYS = 7;

export interface MessagingRetentionSettings {
  databaseUrl: string;
  schema: string;
  /** Between two purges (default 10 minutes). */
  intervalMs?: number;
  /** Published outbox rows (default {@link OUTBOX_RETENTION_DAYS}); parked rows are kept until replayed. */
  outboxRetentionDays?: number;
  /** Inbox entries (default {@link INBOX_RETENTION_DAYS}, docs/ARCHITECTURE.md, "Messaging"). */
  inboxRetentionDays?: number;
  /** Rows per DELETE (default 10,000); the job pauses between batches. */
  batchSize?: number;
  applicationName?: string;
}

/**
 * Keeps every service's messaging tables bounded: inbox entries past their 30 days and published
 * outbox rows past their 7, deleted in batches. One replica per schema purges (its own session
 * advisory lock and connection, not the outbox relay's), so a purge of a large backlog, or one
 * waiting on a lock, never holds up the events the relay publishes. The platform runs it for every
 * app with a database; no app schedules it itself.
 */
export class MessagingRetention {
  private readonly leader: AdvisoryLockLeader;
  private readonly inbox: Inbox;
  private readonly outboxTable: string;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly purged;
  private nextRun = 0;

  constructor(
    private readonly settings: MessagingRetentionSettings,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.intervalMs = settings.intervalMs ?? 10 * 60_000;
    this.batchSize = settings.batchSize ?? 10_000;
    this.inbox = new Inbox(settings.schema);
    this.outboxTable = `"${assertIdentifier(settings.schema)}".outbox`;
    this.purged = metrics.counter('messaging_retention_purged_total', 'Rows purged past their retention', [
      'table',
    ]);
    this.leader = new AdvisoryLockLeader(
      {
        databaseUrl: settings.databaseUrl,
        lockKey: `retention:${settings.schema}`,
        applicationName: settings.applicationName ?? `retention-${settings.schema}`,
        pollIntervalMs: Math.min(this.intervalMs, 60_000),
      },
      { round: (client) => this.round(client) },
      logger,
    );
  }

  start(): void {
    this.leader.start();
  }

  stop(): Promise<void> {
    return this.leader.stop();
  }

  get isLeader(): boolean {
    return this.leader.isLeader;
  }

  private async round(client: Client): Promise<RoundResult> {
    if (Date.now() < this.nextRun) return 'idle';
    try {
      const execute = async (text: string, values: unknown[]) => {
        const count = (await client.query(text, values)).rowCount ?? 0;
        // Between full batches, give the database to the hot path for a moment.
        if (count >= this.batchSize) await sleep(50);
        return count;
      };
      const outbox = await this.purgeOutbox(execute);
      const inbox = await this.inbox.purge(
        execute,
        this.settings.inboxRetentionDays ?? INBOX_RETENTION_DAYS,
        this.batchSize,
      );
      this.purged.inc({ table: 'outbox' }, outbox);
      this.purged.inc({ table: 'inbox' }, inbox);
      if (outbox + inbox > 0) {
        this.logger.info(
          { schema: this.settings.schema, outbox, inbox },
          'messaging rows past retention purged',
        );
      }
      this.nextRun = Date.now() + this.intervalMs;
      return 'idle';
    } catch (error) {
      this.logger.warn({ err: error, schema: this.settings.schema }, 'retention purge failed; will retry');
      this.nextRun = Date.now() + Math.min(this.intervalMs, 60_000);
      return 'idle';
    }
  }

  private async purgeOutbox(execute: (text: string, values: unknown[]) => Promise<number>): Promise<number> {
    let removed = 0;
    for (;;) {
      const count = await execute(
        `DELETE FROM ${this.outboxTable} WHERE id IN (
           SELECT id FROM ${this.outboxTable}
            WHERE published_at < now() - make_interval(days => $1) LIMIT $2)`,
        [this.settings.outboxRetentionDays ?? OUTBOX_RETENTION_DAYS, this.batchSize],
      );
      removed += count;
      if (count < this.batchSize) return removed;
    }
  }
}
