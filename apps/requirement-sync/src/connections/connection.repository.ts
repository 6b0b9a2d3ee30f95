import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ConnectionConnectedV1, ConnectionDisconnectedV1 } from '@testkase/contracts';

import { onlyRow } from '../persistence/first-row';
import { SCHEMA } from '../persistence/schema';
import { normaliseInstanceUrl } from '../requirements/requirement-mapping';
import type { ConnectionRecord } from './connection.record';

const T = `"${SCHEMA}".connections`;

export type SyncJobKind = 'backfill' | 'full' | 'incremental';

/** Advisory lock namespaces (two-int keys never collide with the outbox relay's one-bigint key). */
export const LOCK_NAMESPACE = {
  /** Held, shared, by every transaction that writes a connection's requirements; exclusively by (dis)connect. */
  gate: 7301,
  /** Held by the one replica running a connection's backfill or sweep, for the whole job. */
  job: 7302,
} as const;

/** SQL of requirement_sync.connections. Every method runs in the caller's transaction. */
@Injectable()
export class ConnectionRepository {
  /** Waits until no (dis)connect is changing this connection, and keeps it so until commit. */
  async enterGate(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [
      LOCK_NAMESPACE.gate,
      connectionId,
    ]);
  }

  /** Waits until no transaction writes this connection's requirements, and keeps them out until commit. */
  async closeGate(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE.gate, connectionId]);
  }

  async find(tx: EntityManager, connectionId: string): Promise<ConnectionRecord | null> {
    const rows: ConnectionRecord[] = await tx.query(`SELECT * FROM ${T} WHERE connection_id = $1::uuid`, [
      connectionId,
    ]);
    return rows[0] ?? null;
  }

  /**
   * Records a `connected` event unless the projection already saw a later state change. A connection
   * that was unknown or disconnected starts with a pending backfill; an active one (its token or
   * settings were updated) keeps its progress and is retried if GitLab had refused its token.
   * Returns the connection as stored, and whether the event applied.
   */
  async applyConnected(
    tx: EntityManager,
    event: ConnectionConnectedV1,
  ): Promise<{ connection: ConnectionRecord; applied: boolean; fresh: boolean }> {
    const existing = await this.find(tx, event.connectionId);
    const at = new Date(event.connectedAt);
    if (existing && existing.state_changed_at > at)
      return { connection: existing, applied: false, fresh: false };
    const fresh = !existing || existing.state === 'disconnected';
    const rows: ConnectionRecord[] = await tx.query(
      `INSERT INTO ${T} AS c (connection_id, project_id, instance_url, gitlab_project_id, project_path, project_web_url,
          mode, token_user_id, state, state_changed_at)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, 'active', $9)
       ON CONFLICT (connection_id) DO UPDATE SET
          project_id = excluded.project_id,
          instance_url = excluded.instance_url,
          gitlab_project_id = excluded.gitlab_project_id,
          project_path = excluded.project_path,
          project_web_url = excluded.project_web_url,
          mode = excluded.mode,
          token_user_id = excluded.token_user_id,
          state = 'active',
          state_changed_at = excluded.state_changed_at,
          auth_failed_at = NULL,
          backfill_state = CASE WHEN $10 THEN 'pending' WHEN c.backfill_state = 'failed' THEN 'running' ELSE c.backfill_state END,
          backfill_cursor = CASE WHEN $10 THEN NULL ELSE c.backfill_cursor END,
          backfill_imported = CASE WHEN $10 THEN 0 ELSE c.backfill_imported END,
          backfill_expected = CASE WHEN $10 THEN NULL ELSE c.backfill_expected END,
          backfill_started_at = CASE WHEN $10 THEN NULL ELSE c.backfill_started_at END,
          backfill_finished_at = CASE WHEN $10 THEN NULL ELSE c.backfill_finished_at END,
          watermark = CASE WHEN $10 THEN NULL ELSE c.watermark END,
          last_reconciled_at = CASE WHEN $10 THEN NULL ELSE c.last_reconciled_at END,
          last_full_sweep_at = CASE WHEN $10 THEN NULL ELSE c.last_full_sweep_at END,
          full_sweep_requested_at = CASE WHEN $10 THEN NULL ELSE c.full_sweep_requested_at END,
          updated_at = now()
       RETURNING *`,
      [
        event.connectionId,
        event.projectId,
        normaliseInstanceUrl(event.instanceUrl),
        event.gitlabProjectId,
        event.projectPath,
        event.projectWebUrl.replace(/\/+$/, ''),
        event.mode,
        event.tokenUserId,
        at,
        fresh,
      ],
    );
    return { connection: onlyRow(rows, 'connection upsert'), applied: true, fresh };
  }

  /**
   * Records a `disconnected` event unless the projection saw a later state change; an unknown
   * connection is remembered as disconnected so that a late `connected` cannot revive it.
   */
  async applyDisconnected(
    tx: EntityManager,
    event: ConnectionDisconnectedV1,
  ): Promise<{ connection: ConnectionRecord; applied: boolean }> {
    const existing = await this.find(tx, event.connectionId);
    const at = new Date(event.disconnectedAt);
    if (existing && existing.state_changed_at > at) return { connection: existing, applied: false };
    const rows: ConnectionRecord[] = await tx.query(
      `INSERT INTO ${T} AS c (connection_id, project_id, instance_url, gitlab_project_id, project_path, project_web_url,
          mode, state, state_changed_at)
       VALUES ($1::uuid, $2, $3, $4, '', '', 'webhook_managed', 'disconnected', $5)
       ON CONFLICT (connection_id) DO UPDATE SET state = 'disconnected', state_changed_at = excluded.state_changed_at,
          updated_at = now()
       RETURNING *`,
      [
        event.connectionId,
        event.projectId,
        normaliseInstanceUrl(event.instanceUrl),
        event.gitlabProjectId,
        at,
      ],
    );
    return { connection: onlyRow(rows, 'connection upsert'), applied: true };
  }

  /** Other active connections of the same TestKase project (a missed `disconnected`). */
  async othersActiveForProject(
    tx: EntityManager,
    projectId: string,
    connectionId: string,
  ): Promise<ConnectionRecord[]> {
    return tx.query(
      `SELECT * FROM ${T} WHERE project_id = $1 AND state = 'active' AND connection_id <> $2::uuid`,
      [projectId, connectionId],
    );
  }

  async markSuperseded(tx: EntityManager, connectionId: string, at: Date): Promise<void> {
    await tx.query(
      `UPDATE ${T} SET state = 'disconnected', state_changed_at = $2, updated_at = now() WHERE connection_id = $1::uuid`,
      [connectionId, at],
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

  /** Marks GitLab's refusal of the token; true when this is news (the first failure since it worked). */
  async markAuthFailed(tx: EntityManager, connectionId: string): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${T} SET auth_failed_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active' AND auth_failed_at IS NULL`,
      [connectionId],
    );
    if (count > 0) return true;
    // Still failing after a retry: refresh the timestamp so that the next retry waits again.
    await tx.query(`UPDATE ${T} SET auth_failed_at = now() WHERE connection_id = $1::uuid`, [connectionId]);
    return false;
  }

  async clearAuthFailed(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query(
      `UPDATE ${T} SET auth_failed_at = NULL, updated_at = now() WHERE connection_id = $1::uuid AND auth_failed_at IS NOT NULL`,
      [connectionId],
    );
  }

  /**
   * Connections with a job due now (`connectionId` narrows it to one): a backfill to start or
   * continue (a failed one is retried after `retryMs`), a full sweep (asked for, or older than
   * `fullSweepMs`), or an incremental one (older than the mode's interval). A connection whose
   * token GitLab refused waits `retryMs` too.
   */
  async due(
    tx: EntityManager,
    settings: { reconcileMs: number; reconcileManualMs: number; fullSweepMs: number; retryMs: number },
    connectionId?: string,
  ): Promise<Array<{ connectionId: string; job: SyncJobKind }>> {
    const rows: Array<{ connection_id: string; job: SyncJobKind }> = await tx.query(
      `SELECT connection_id, job FROM (
         SELECT connection_id, last_reconciled_at, CASE
           WHEN backfill_state IN ('pending', 'running') THEN 'backfill'
           WHEN backfill_state = 'failed' THEN
             CASE WHEN backfill_finished_at < now() - make_interval(secs => $4::float8) THEN 'backfill' END
           WHEN full_sweep_requested_at IS NOT NULL
             OR coalesce(last_full_sweep_at, '-infinity') < now() - make_interval(secs => $3::float8) THEN 'full'
           WHEN coalesce(last_reconciled_at, '-infinity')
             < now() - make_interval(secs => CASE WHEN mode = 'webhook_manual' THEN $2::float8 ELSE $1::float8 END)
             THEN 'incremental'
         END AS job
         FROM ${T}
        WHERE state = 'active'
          AND (auth_failed_at IS NULL OR auth_failed_at < now() - make_interval(secs => $4::float8))
          AND ($5::uuid IS NULL OR connection_id = $5::uuid)) due
        WHERE job IS NOT NULL
        ORDER BY coalesce(last_reconciled_at, '-infinity')`,
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
