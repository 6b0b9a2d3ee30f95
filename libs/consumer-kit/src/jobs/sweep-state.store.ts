import type { EntityManager } from 'typeorm';

import type { SweepSchedule } from './connection-job.scheduler';

/** The jobs of a consumer with a lane: the lane itself and the two sweeps. */
export type LaneJobKind = 'lane' | 'full' | 'incremental';

export interface SweepStateSql {
  /** The app's schema (its `connections` table has the reconciliation columns). */
  readonly schema: string;
  /** SQL that is true when the connection `c` has lane work due now. */
  readonly laneDue: string;
  /** SQL that is true when the connection `c` has anything to reconcile. */
  readonly tracked: string;
}

/**
 * The reconciliation columns an app adds to its connection projection (`watermark`,
 * `last_reconciled_at`, `last_full_sweep_at`, `full_sweep_requested_at`) and the question "which
 * job of which connection is due". Every method runs in the caller's transaction.
 */
export class SweepStateStore {
  private readonly table: string;

  constructor(private readonly sql: SweepStateSql) {
    this.table = `"${sql.schema}".connections`;
  }

  /** The SQL that adds the columns (for the app's migration). */
  static addColumnsSql(schema: string): string {
    return `ALTER TABLE "${schema}".connections
        ADD COLUMN watermark timestamptz,
        ADD COLUMN last_reconciled_at timestamptz,
        ADD COLUMN last_full_sweep_at timestamptz,
        ADD COLUMN full_sweep_requested_at timestamptz`;
  }

  static dropColumnsSql(schema: string): string {
    return `ALTER TABLE "${schema}".connections DROP COLUMN watermark, DROP COLUMN last_reconciled_at,
        DROP COLUMN last_full_sweep_at, DROP COLUMN full_sweep_requested_at`;
  }

  /**
   * Jobs due now: a lane where work has come due; otherwise a full sweep (asked for, or older than
   * `fullSweepMs`) or an incremental one, for connections with something to reconcile. A
   * connection whose token GitLab refused waits `retryMs`.
   */
  async due(
    tx: EntityManager,
    schedule: SweepSchedule,
    connectionId?: string,
  ): Promise<Array<{ connectionId: string; job: LaneJobKind }>> {
    const rows: Array<{ connection_id: string; job: LaneJobKind }> = await tx.query(
      `SELECT connection_id, job FROM (
         SELECT c.connection_id, c.last_reconciled_at, CASE
           WHEN ${this.sql.laneDue} THEN 'lane'
           WHEN NOT (${this.sql.tracked}) THEN NULL
           WHEN c.full_sweep_requested_at IS NOT NULL
             OR coalesce(c.last_full_sweep_at, '-infinity') < now() - make_interval(secs => $3::float8) THEN 'full'
           WHEN coalesce(c.last_reconciled_at, '-infinity')
             < now() - make_interval(secs => CASE WHEN c.mode = 'webhook_manual' THEN $2::float8 ELSE $1::float8 END)
             THEN 'incremental'
         END AS job
         FROM ${this.table} c
        WHERE c.state = 'active' AND c.paused_at IS NULL
          AND (c.auth_failed_at IS NULL OR c.auth_failed_at < now() - make_interval(secs => $4::float8))
          AND ($5::uuid IS NULL OR c.connection_id = $5::uuid)) due
        WHERE job IS NOT NULL
        ORDER BY job = 'lane' DESC, coalesce(last_reconciled_at, '-infinity')`,
      [
        schedule.reconcileMs / 1000,
        schedule.reconcileManualMs / 1000,
        schedule.fullSweepMs / 1000,
        schedule.retryMs / 1000,
        connectionId ?? null,
      ],
    );
    return rows.map((row) => ({ connectionId: row.connection_id, job: row.job }));
  }

  async requestFullSweep(tx: EntityManager, connectionId: string): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${this.table} SET full_sweep_requested_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active'`,
      [connectionId],
    );
    return count > 0;
  }

  /** A fresh connection starts its reconciliation from nothing. */
  async reset(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query(
      `UPDATE ${this.table} SET watermark = NULL, last_reconciled_at = NULL, last_full_sweep_at = NULL,
          full_sweep_requested_at = NULL, updated_at = now() WHERE connection_id = $1::uuid`,
      [connectionId],
    );
  }

  /** A sweep that started at `startedAt` (database clock) finished; a request made after it stays. */
  async finish(
    tx: EntityManager,
    connectionId: string,
    kind: 'incremental' | 'full',
    startedAt: Date,
    watermark: Date | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.table} SET
          last_reconciled_at = $2,
          watermark = CASE WHEN $4::timestamptz IS NOT NULL AND ($4 > watermark OR watermark IS NULL) THEN $4 ELSE watermark END,
          last_full_sweep_at = CASE WHEN $3 THEN $2 ELSE last_full_sweep_at END,
          full_sweep_requested_at = CASE WHEN $3 AND full_sweep_requested_at <= $2 THEN NULL ELSE full_sweep_requested_at END,
          updated_at = now()
        WHERE connection_id = $1::uuid`,
      [connectionId, startedAt, kind === 'full', watermark],
    );
  }
}
