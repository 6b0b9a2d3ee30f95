import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { SCHEMA } from '../persistence/schema';
import type { ConnectionRecord } from './connection.record';

const T = `"${SCHEMA}".connections`;

/**
 * `held`: issues with a defect marker whose hold may have ended are looked at again; `deletions`:
 * the deletion check (GitLab sends no event for a deleted issue).
 */
export type SyncJobKind = 'backfill' | 'full' | 'held' | 'deletions' | 'incremental';

/** Advisory lock namespaces of requirement-sync (the consumer kit's gate and job leases). */
export const LOCK_NAMESPACE = {
  /** Held, shared, by every transaction that writes a connection's requirements; exclusively by (dis)connect. */
  gate: 7301,
  /** Held by the one replica running a connection's backfill or sweep, for the whole job. */
  job: 7302,
} as const;

/**
 * SQL of this service's sync progress, kept in the columns it adds to the kit's connection
 * projection (requirement_sync.connections). Every method runs in the caller's transaction.
 */
@Injectable()
export class ConnectionRepository {
  /**
   * After a `connected` event: a connection that was unknown or disconnected (`fresh`) starts over
   * with a pending backfill; an active one keeps its progress, and a failed backfill is retried.
   */
  async resetProgress(tx: EntityManager, connectionId: string, fresh: boolean): Promise<void> {
    await tx.query(
      fresh
        ? `UPDATE ${T} SET backfill_state = 'pending', backfill_cursor = NULL, backfill_imported = 0,
              backfill_expected = NULL, backfill_started_at = NULL, backfill_finished_at = NULL, watermark = NULL,
              last_reconciled_at = NULL, last_full_sweep_at = NULL, full_sweep_requested_at = NULL,
              last_delivery_at = NULL, updated_at = now()
            WHERE connection_id = $1::uuid`
        : `UPDATE ${T} SET backfill_state = 'running', updated_at = now()
            WHERE connection_id = $1::uuid AND backfill_state = 'failed'`,
      [connectionId],
    );
  }

  /** Asks for a full sweep (database clock, as sweeps compare it with their own start). */
  async requestFullSweep(tx: EntityManager, connectionId: string): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${T} SET full_sweep_requested_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active'`,
      [connectionId],
    );
    return count > 0;
  }

  /**
   * Connections with a job due now (`connectionId` narrows it to one): a backfill to start or
   * continue (a failed one is retried after `retryMs`), a full sweep (asked for, or older than
   * `fullSweepMs`), or an incremental one (older than the mode's interval; a `webhook_manual`
   * connection with no delivery seen yet is polled every `pollNoHookMs`). A connection whose token
   * GitLab refused waits `retryMs` too.
   */
  async due(
    tx: EntityManager,
    settings: {
      reconcileMs: number;
      reconcileManualMs: number;
      pollNoHookMs: number;
      fullSweepMs: number;
      retryMs: number;
      /** DELETION_CHECK_INTERVAL; none when absent. */
      deletionCheckMs?: number;
    },
    connectionId?: string,
  ): Promise<Array<{ connectionId: string; job: SyncJobKind }>> {
    const rows: Array<{ connection_id: string; job: SyncJobKind }> = await tx.query(
      `SELECT connection_id, job FROM (
         SELECT connection_id, last_reconciled_at, backfill_state, backfill_expected, backfill_imported, CASE
           WHEN backfill_state IN ('pending', 'running') THEN 'backfill'
           WHEN backfill_state = 'failed' THEN
             CASE WHEN backfill_finished_at < now() - make_interval(secs => $4::float8) THEN 'backfill' END
           WHEN full_sweep_requested_at IS NOT NULL
             OR coalesce(last_full_sweep_at, '-infinity') < now() - make_interval(secs => $3::float8) THEN 'full'
           WHEN EXISTS (SELECT 1 FROM "${SCHEMA}".held_issues h
                         WHERE h.connection_id = c.connection_id AND h.recheck_at <= now()) THEN 'held'
           WHEN $7::float8 IS NOT NULL AND coalesce(last_deletion_check_at, backfill_finished_at, '-infinity')
             < now() - make_interval(secs => $7::float8) THEN 'deletions'
           WHEN coalesce(last_reconciled_at, '-infinity')
             < now() - make_interval(secs => CASE
                 WHEN mode <> 'webhook_manual' THEN $1::float8
                 WHEN last_delivery_at IS NULL THEN least($6::float8, $2::float8)
                 ELSE $2::float8 END)
             THEN 'incremental'
         END AS job
         FROM ${T} c
        WHERE state = 'active' AND paused_at IS NULL
          AND (auth_failed_at IS NULL OR auth_failed_at < now() - make_interval(secs => $4::float8))
          AND ($5::uuid IS NULL OR connection_id = $5::uuid)) due
        WHERE job IS NOT NULL
        -- Backfills take turns (BACKFILL_SLICE): new ones first (their first job makes the
        -- estimate), then the fewest issues left (apps/requirement-sync/README.md, "Backfill").
        ORDER BY coalesce(last_reconciled_at, '-infinity'),
                 CASE WHEN job <> 'backfill' THEN NULL
                      WHEN backfill_state = 'pending' THEN -1
                      ELSE greatest(coalesce(backfill_expected, 0) - backfill_imported, 0) END NULLS LAST,
                 connection_id`,
      [
        settings.reconcileMs / 1000,
        settings.reconcileManualMs / 1000,
        settings.fullSweepMs / 1000,
        settings.retryMs / 1000,
        connectionId ?? null,
        settings.pollNoHookMs / 1000,
        settings.deletionCheckMs === undefined ? null : settings.deletionCheckMs / 1000,
      ],
    );
    return rows.map((row) => ({ connectionId: row.connection_id, job: row.job }));
  }

  /**
   * The gateway saw webhook deliveries for the connection, the latest at `at`: its hook works, so a
   * manual connection goes back to RECONCILE_INTERVAL_MANUAL. Deliveries from before the connection's
   * last (re)connect belong to an earlier hook and are ignored; the time only moves forward.
   * @returns whether the time moved
   */
  async deliveriesSeen(tx: EntityManager, connectionId: string, at: Date): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${T} SET last_delivery_at = $2, updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active' AND state_changed_at <= $2
          AND (last_delivery_at IS NULL OR last_delivery_at < $2)`,
      [connectionId, at],
    );
    return count > 0;
  }

  /** A sweep that started at `startedAt` (database clock) finished; a request made after it stays. */
  async finishSweep(
    tx: EntityManager,
    connectionId: string,
    kind: 'incremental' | 'full',
    startedAt: Date,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${T} SET
          last_reconciled_at = $2,
          last_full_sweep_at = CASE WHEN $3 THEN $2 ELSE last_full_sweep_at END,
          last_deletion_check_at = CASE WHEN $3 THEN $2 ELSE last_deletion_check_at END,
          full_sweep_requested_at = CASE WHEN $3 AND full_sweep_requested_at <= $2 THEN NULL ELSE full_sweep_requested_at END,
          updated_at = now()
        WHERE connection_id = $1::uuid`,
      [connectionId, startedAt, kind === 'full'],
    );
  }

  async update(tx: EntityManager, connectionId: string, fields: Partial<ConnectionRecord>): Promise<void> {
    const entries = Object.entries(fields);
    if (entries.length === 0) return;
    const sets = entries.map(([column], index) => `"${column}" = $${index + 2}`);
    await tx.query(`UPDATE ${T} SET ${sets.join(', ')}, updated_at = now() WHERE connection_id = $1::uuid`, [
      connectionId,
      ...entries.map(([, value]) => value),
    ]);
  }
}
