import type { EntityManager } from 'typeorm';

import type {
  ConnectionConnectedV1,
  ConnectionDisconnectedV1,
  ConnectionPauseChangedV1,
} from '@testkase/contracts';
import { assertIdentifier, onlyRow } from '@testkase/platform';

import { normaliseInstanceUrl, type ConnectionRecord } from './connection.record';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The outcome of recording a `connected` event. */
export interface ConnectedChange<R extends ConnectionRecord = ConnectionRecord> {
  /** The connection as stored now. */
  readonly connection: R;
  /** false when the projection had already seen a later state change (nothing changed). */
  readonly applied: boolean;
  /** The connection was unknown or disconnected: everything starts anew (a backfill, say). */
  readonly fresh: boolean;
}

/**
 * SQL of `<schema>.connections`, the projection of connection-service's connections that a consumer
 * keeps (no service reads another's schema). Every method runs in the caller's transaction.
 *
 * The connection's **gate** is an advisory lock: every transaction that writes data of a connection
 * holds it shared, a (dis)connect holds it exclusively, so nothing is written for a connection after
 * the transaction that disconnected it. `gateNamespace` keeps each service's locks apart (advisory
 * locks are database-wide).
 */
export class ConnectionProjection {
  private readonly table: string;

  constructor(
    schema: string,
    private readonly gateNamespace: number,
  ) {
    this.table = `"${assertIdentifier(schema)}".connections`;
  }

  /** Waits until no (dis)connect is changing this connection, and keeps it so until commit. */
  async enterGate(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [
      this.gateNamespace,
      connectionId,
    ]);
  }

  /** Waits until no transaction writes this connection's data, and keeps them out until commit. */
  async closeGate(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [this.gateNamespace, connectionId]);
  }

  /**
   * SQL without parameters that enters the gate and then reads the connection (each statement of a
   * multi-statement query takes its own snapshot, so the row is as of after the gate): the opening of
   * a hot-path transaction sent together with BEGIN (platform `inPooledTransaction`).
   * @param connectionId must be a UUID (it is written into the SQL)
   */
  gateAndReadStatement(connectionId: string): string {
    if (!UUID.test(connectionId)) throw new Error(`not a connection id: ${connectionId}`);
    return (
      `SELECT pg_advisory_xact_lock_shared(${this.gateNamespace}, hashtext('${connectionId}'));` +
      ` SELECT * FROM ${this.table} WHERE connection_id = '${connectionId}'`
    );
  }

  async find<R extends ConnectionRecord = ConnectionRecord>(
    tx: EntityManager,
    connectionId: string,
  ): Promise<R | null> {
    if (!UUID.test(connectionId)) return null;
    const rows: R[] = await tx.query(`SELECT * FROM ${this.table} WHERE connection_id = $1::uuid`, [
      connectionId,
    ]);
    return rows[0] ?? null;
  }

  /** The active connection of a TestKase project (at most one is active at a time). */
  async activeForProject<R extends ConnectionRecord = ConnectionRecord>(
    tx: EntityManager,
    projectId: string,
  ): Promise<R | null> {
    const rows: R[] = await tx.query(
      `SELECT * FROM ${this.table} WHERE project_id = $1 AND state = 'active'
        ORDER BY state_changed_at DESC LIMIT 1`,
      [projectId],
    );
    return rows[0] ?? null;
  }

  /**
   * Records a `connected` event unless the projection already saw a later state change. A connection
   * that was unknown or disconnected is `fresh`; an active one (its token or settings were updated)
   * keeps its state, and a token GitLab had refused is tried again.
   */
  async applyConnected<R extends ConnectionRecord = ConnectionRecord>(
    tx: EntityManager,
    event: ConnectionConnectedV1,
  ): Promise<ConnectedChange<R>> {
    const existing = await this.find<R>(tx, event.connectionId);
    const at = new Date(event.connectedAt);
    if (existing && existing.state_changed_at > at)
      return { connection: existing, applied: false, fresh: false };
    const fresh = !existing || existing.state === 'disconnected';
    const rows: R[] = await tx.query(
      `INSERT INTO ${this.table} AS c (connection_id, project_id, instance_url, gitlab_project_id, project_path,
          project_web_url, mode, token_user_id, state, state_changed_at)
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
      ],
    );
    return { connection: onlyRow(rows, 'connection upsert'), applied: true, fresh };
  }

  /**
   * Records a `disconnected` event unless the projection saw a later state change; an unknown
   * connection is remembered as disconnected so that a late `connected` cannot revive it.
   */
  async applyDisconnected<R extends ConnectionRecord = ConnectionRecord>(
    tx: EntityManager,
    event: ConnectionDisconnectedV1,
  ): Promise<{ connection: R; applied: boolean }> {
    const existing = await this.find<R>(tx, event.connectionId);
    const at = new Date(event.disconnectedAt);
    if (existing && existing.state_changed_at > at) return { connection: existing, applied: false };
    const rows: R[] = await tx.query(
      `INSERT INTO ${this.table} AS c (connection_id, project_id, instance_url, gitlab_project_id, project_path,
          project_web_url, mode, state, state_changed_at)
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

  /** Other active connections of the same TestKase project (their `disconnected` was missed). */
  async othersActiveForProject<R extends ConnectionRecord = ConnectionRecord>(
    tx: EntityManager,
    projectId: string,
    connectionId: string,
  ): Promise<R[]> {
    return tx.query(
      `SELECT * FROM ${this.table} WHERE project_id = $1 AND state = 'active' AND connection_id <> $2::uuid`,
      [projectId, connectionId],
    );
  }

  async markSuperseded(tx: EntityManager, connectionId: string, at: Date): Promise<void> {
    await tx.query(
      `UPDATE ${this.table} SET state = 'disconnected', state_changed_at = $2, updated_at = now()
        WHERE connection_id = $1::uuid`,
      [connectionId, at],
    );
  }

  /** Marks GitLab's refusal of the token; true when this is news (the first failure since it worked). */
  async markAuthFailed(tx: EntityManager, connectionId: string): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${this.table} SET auth_failed_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND state = 'active' AND auth_failed_at IS NULL`,
      [connectionId],
    );
    if (count > 0) return true;
    // Still failing after a retry: refresh the timestamp so that the next retry waits again.
    await tx.query(`UPDATE ${this.table} SET auth_failed_at = now() WHERE connection_id = $1::uuid`, [
      connectionId,
    ]);
    return false;
  }

  async clearAuthFailed(tx: EntityManager, connectionId: string): Promise<void> {
    await tx.query(
      `UPDATE ${this.table} SET auth_failed_at = NULL, updated_at = now()
        WHERE connection_id = $1::uuid AND auth_failed_at IS NOT NULL`,
      [connectionId],
    );
  }

  /**
   * Records an operator's pause or resume (`integration.connection.pause_changed`), only forward by
   * `changedAt`. True when it changed the projection.
   */
  async applyPauseChanged(tx: EntityManager, data: ConnectionPauseChangedV1): Promise<boolean> {
    const at = new Date(data.changedAt);
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${this.table} SET paused_at = CASE WHEN $2 THEN $3::timestamptz END, pause_changed_at = $3,
              updated_at = now()
        WHERE connection_id = $1::uuid AND (pause_changed_at IS NULL OR pause_changed_at < $3)`,
      [data.connectionId, data.paused, at],
    );
    return count > 0;
  }

  /** Whether an operator paused the connection's sync (docs/ADMIN-API.md, "Pause and resume"). */
  async isPaused(db: Pick<EntityManager, 'query'>, connectionId: string): Promise<boolean> {
    if (!UUID.test(connectionId)) return false;
    const rows: Array<{ paused: boolean }> = await db.query(
      `SELECT paused_at IS NOT NULL AS paused FROM ${this.table} WHERE connection_id = $1::uuid`,
      [connectionId],
    );
    return rows[0]?.paused ?? false;
  }
}
