import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { SCHEMA } from '../persistence/schema';

const C = `"${SCHEMA}".connections`;
const D = `"${SCHEMA}".defects`;

/** defect-sync's jobs of a connection: its lane (pushes, writes, retries) and the two sweeps. */
export type DefectJobKind = 'lane' | 'full' | 'incremental';

/** Advisory-lock namespaces of defect-sync (the consumer kit's gate and job leases). */
export const LOCK_NAMESPACE = { gate: 7311, job: 7312 } as const;

/** SQL of the reconciliation columns of defect_sync.connections. Every method runs in the caller's transaction. */
@Injectable()
export class SweepStateRepository {
  /**
   * Jobs due now: a lane where a defect's next attempt has come; otherwise a full sweep (asked
   * for, or older than `fullSweepMs`) or an incremental one, for connections with pushed issues. A
   * connection whose token GitLab refused waits `retryMs`.
   */
  async due(
    tx: EntityManager,
    settings: { reconcileMs: number; reconcileManualMs: number; fullSweepMs: number; retryMs: number },
    connectionId?: string,
  ): Promise<Array<{ connectionId: string; job: DefectJobKind }>> {
    const rows: Array<{ connection_id: string; job: DefectJobKind }> = await tx.query(
      `SELECT connection_id, job FROM (
         SELECT c.connection_id, c.last_reconciled_at, CASE
           WHEN EXISTS (SELECT 1 FROM ${D} d WHERE d.connection_id = c.connection_id AND d.detached_at IS NULL
                          AND d.next_attempt_at <= now()) THEN 'lane'
           WHEN NOT EXISTS (SELECT 1 FROM ${D} d WHERE d.connection_id = c.connection_id AND d.iid IS NOT NULL
                              AND d.detached_at IS NULL) THEN NULL
           WHEN c.full_sweep_requested_at IS NOT NULL
             OR coalesce(c.last_full_sweep_at, '-infinity') < now() - make_interval(secs => $3::float8) THEN 'full'
           WHEN coalesce(c.last_reconciled_at, '-infinity')
             < now() - make_interval(secs => CASE WHEN c.mode = 'webhook_manual' THEN $2::float8 ELSE $1::float8 END)
             THEN 'incremental'
         END AS job
         FROM ${C} c
        WHERE c.state = 'active'
          AND (c.auth_failed_at IS NULL OR c.auth_failed_at < now() - make_interval(secs => $4::float8))
          AND ($5::uuid IS NULL OR c.connection_id = $5::uuid)) due
        WHERE job IS NOT NULL
        ORDER BY job = 'lane' DESC, coalesce(last_reconciled_at, '-infinity')`,
      [
        settings.reconcileMs / 1000,
        settings.reconcileManualMs / 1000,
        settings.fullSweepMs / 1000,
        settings.retryMs / 1000,
        connectionId ?? null,
      ],
    );
    return rows.map((row) => ({ connectionId: row.connection_id, job: row.job }));
  }

  async requestFullSweep(tx: EntityManager, connectionId: string): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${C} SET full_sweep_requested_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active'`,
      [connectionId],
    );
    return count > 0;
  }

  /** A fresh connection starts its reconciliation from nothing. */
  async reset(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query(
      `UPDATE ${C} SET watermark = NULL, last_reconciled_at = NULL, last_full_sweep_at = NULL,
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
      `UPDATE ${C} SET
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
