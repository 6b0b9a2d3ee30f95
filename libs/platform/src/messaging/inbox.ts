import type { DataSource, EntityManager } from 'typeorm';

import { assertIdentifier } from '../database/data-source.factory';

export const INBOX_RETENTION_DAYS = 30;

/**
 * Remembers which events a consumer has applied, in the same transaction as the effect, so a
 * redelivered or replayed event (days later, beyond JetStream's dedupe window) is a no-op.
 */
export class Inbox {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${assertIdentifier(schema)}".inbox`;
  }

  /** True the first time `eventId` is claimed by `consumer` (in `tx`); false for a duplicate. */
  async claim(tx: EntityManager, consumer: string, eventId: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO ${this.table} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [consumer, eventId],
    );
    return rows.length === 1;
  }

  /**
   * Runs `effect` in a transaction unless the event was already applied.
   * Returns whether the effect ran.
   */
  async once(
    dataSource: DataSource,
    consumer: string,
    eventId: string,
    effect: (tx: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return dataSource.transaction(async (tx) => {
      if (!(await this.claim(tx, consumer, eventId))) return false;
      await effect(tx);
      return true;
    });
  }

  /**
   * Deletes entries older than the retention, in batches, through `execute` (a statement runner that
   * resolves to the rows affected). Returns how many were removed. The outbox relay's leader runs it
   * for every service, so no app schedules it itself.
   */
  async purge(
    execute: (text: string, values: unknown[]) => Promise<number>,
    retentionDays = INBOX_RETENTION_DAYS,
    batch = 10_000,
  ): Promise<number> {
    let removed = 0;
    for (;;) {
      const count = await execute(
        `DELETE FROM ${this.table} WHERE ctid IN (
           SELECT ctid FROM ${this.table} WHERE processed_at < now() - make_interval(days => $1) LIMIT $2)`,
        [retentionDays, batch],
      );
      removed += count;
      if (count < batch) return removed;
    }
  }
}
