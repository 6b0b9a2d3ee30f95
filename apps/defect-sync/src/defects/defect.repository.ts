import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ProjectContext } from '@testkase/consumer-kit';
import { onlyRow } from '@testkase/platform';

import { SCHEMA } from '../persistence/schema';
import type { DefectRecord } from './defect.record';

const T = `"${SCHEMA}".defects`;

/** Columns whose values need a cast when written as parameters. */
const CASTS: Partial<Record<keyof DefectRecord, string>> = {
  context: 'jsonb',
  field_times: 'jsonb',
  warnings: 'jsonb',
  dirty: 'text[]',
  gl_labels: 'text[]',
  connection_id: 'uuid',
};
const JSON_COLUMNS = new Set<keyof DefectRecord>(['context', 'field_times', 'warnings']);

export type DefectColumns = Partial<Omit<DefectRecord, 'id' | 'created_at' | 'updated_at' | 'version'>>;

/** What a new push records before anything is sent to GitLab. */
export interface QueuedDefect {
  readonly projectId: string;
  readonly defectId: string;
  readonly connectionId: string;
  readonly instanceUrl: string;
  readonly gitlabProjectId: number;
  readonly title: string;
  readonly description: string;
  readonly url: string;
  readonly context: DefectRecord['context'];
  readonly priority: DefectRecord['priority'];
  readonly status: DefectRecord['status'];
}

function setClause(columns: DefectColumns, firstParam: number): { sql: string; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of Object.entries(columns) as Array<[keyof DefectRecord, unknown]>) {
    if (value === undefined) continue;
    values.push(JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value);
    const cast = CASTS[column];
    sets.push(`"${column}" = $${firstParam + values.length - 1}${cast ? `::${cast}` : ''}`);
  }
  return { sql: sets.join(', '), values };
}

/** SQL of defect_sync.defects. Every method runs in the caller's transaction. */
@Injectable()
export class DefectRepository {
  async find(tx: EntityManager, projectId: string, defectId: string): Promise<DefectRecord | null> {
    const rows: DefectRecord[] = await tx.query(
      `SELECT * FROM ${T} WHERE project_id = $1 AND defect_id = $2`,
      [projectId, defectId],
    );
    return rows[0] ?? null;
  }

  async findById(tx: EntityManager, id: string, lock = false): Promise<DefectRecord | null> {
    const rows: DefectRecord[] = await tx.query(
      `SELECT * FROM ${T} WHERE id = $1::uuid${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** The defect whose issue (of this connection) has this iid: only issues defect-sync created are found. */
  async findByIssue(
    tx: EntityManager,
    connectionId: string,
    iid: number,
    lock = false,
  ): Promise<DefectRecord | null> {
    const rows: DefectRecord[] = await tx.query(
      `SELECT * FROM ${T} WHERE connection_id = $1::uuid AND iid = $2 AND detached_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
      [connectionId, iid],
    );
    return rows[0] ?? null;
  }

  /** Records a push, unless the defect is known: then returns the existing row, locked. */
  async insertQueued(
    tx: EntityManager,
    defect: QueuedDefect,
  ): Promise<{ record: DefectRecord; inserted: boolean }> {
    const inserted: DefectRecord[] = await tx.query(
      `INSERT INTO ${T} (project_id, defect_id, connection_id, instance_url, gitlab_project_id, push_state,
          title, description, url, context, priority, status, next_attempt_at)
       VALUES ($1, $2, $3::uuid, $4, $5, 'queued', $6, $7, $8, $9::jsonb, $10, $11, now())
       ON CONFLICT ON CONSTRAINT defects_defect_key DO NOTHING
       RETURNING *`,
      [
        defect.projectId,
        defect.defectId,
        defect.connectionId,
        defect.instanceUrl,
        defect.gitlabProjectId,
        defect.title,
        defect.description,
        defect.url,
        defect.context === null ? null : JSON.stringify(defect.context),
        defect.priority,
        defect.status,
      ],
    );
    if (inserted[0]) return { record: inserted[0], inserted: true };
    const existing: DefectRecord[] = await tx.query(
      `SELECT * FROM ${T} WHERE project_id = $1 AND defect_id = $2 FOR UPDATE`,
      [defect.projectId, defect.defectId],
    );
    return { record: onlyRow(existing, 'defect lookup after a conflicting insert'), inserted: false };
  }

  /**
   * Sets columns of one defect. `bump` counts a change TestKase should notice (the version grows).
   * Returns the row as written, or null when `where` (extra SQL on the row, e.g. a version check)
   * did not match.
   */
  async update(
    tx: EntityManager,
    id: string,
    columns: DefectColumns,
    options: { bump?: boolean; where?: string } = {},
  ): Promise<DefectRecord | null> {
    const { sql, values } = setClause(columns, 2);
    const rows: [DefectRecord[], number] = await tx.query(
      `UPDATE ${T} SET ${sql ? `${sql}, ` : ''}version = version + ${options.bump ? 1 : 0}, updated_at = now()
        WHERE id = $1::uuid${options.where ? ` AND (${options.where})` : ''}
        RETURNING *`,
      [id, ...values],
    );
    return rows[0][0] ?? null;
  }

  /** Defects of a connection with work due now (a push, a write, a retry), oldest first. */
  async due(
    tx: EntityManager,
    connectionId: string,
    limit: number,
    exceptIds: readonly string[] = [],
  ): Promise<DefectRecord[]> {
    return tx.query(
      `SELECT * FROM ${T}
        WHERE connection_id = $1::uuid AND detached_at IS NULL AND next_attempt_at <= now()
          AND NOT (id = ANY($3::uuid[]))
        ORDER BY next_attempt_at, created_at LIMIT $2`,
      [connectionId, limit, exceptIds],
    );
  }

  /** Whether any defect of the connection has work due now. */
  async hasDue(tx: EntityManager, connectionId: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM ${T} WHERE connection_id = $1::uuid AND detached_at IS NULL AND next_attempt_at <= now() LIMIT 1`,
      [connectionId],
    );
    return rows.length > 0;
  }

  /** The pushed issues of a connection (iid order), `after` an iid, for sweeps. */
  async pushedIids(tx: EntityManager, connectionId: string, after: number, limit: number): Promise<number[]> {
    const rows: Array<{ iid: number }> = await tx.query(
      `SELECT iid FROM ${T} WHERE connection_id = $1::uuid AND detached_at IS NULL AND iid > $2 ORDER BY iid LIMIT $3`,
      [connectionId, after, limit],
    );
    return rows.map((row) => row.iid);
  }

  /**
   * Detaches the defects of a connection (sync stops; links stay readable). A push not yet made
   * fails with NOT_CONNECTED. Returns the rows changed.
   */
  async detach(tx: EntityManager, connectionId: string): Promise<DefectRecord[]> {
    return (
      (await tx.query(
        `UPDATE ${T} SET detached_at = now(), next_attempt_at = NULL,
            push_state = CASE WHEN push_state = 'queued' THEN 'failed' ELSE push_state END,
            error_code = CASE WHEN push_state = 'queued' THEN 'NOT_CONNECTED' ELSE error_code END,
            error_message = CASE WHEN push_state = 'queued'
              THEN 'The project was disconnected from GitLab before the issue was created' ELSE error_message END,
            error_at = CASE WHEN push_state = 'queued' THEN now() ELSE error_at END,
            version = version + 1, updated_at = now()
          WHERE connection_id = $1::uuid AND detached_at IS NULL
          RETURNING *`,
        [connectionId],
      )) as [DefectRecord[], number]
    )[0];
  }

  /**
   * Re-attaches to `context` the defects of the same TestKase project whose issue lives in the same
   * GitLab project (a reconnect), and detaches those of another GitLab project still attached to an
   * older connection. Returns how many were attached.
   */
  async attach(tx: EntityManager, context: ProjectContext): Promise<number> {
    const [, attached]: [unknown[], number] = await tx.query(
      `UPDATE ${T} SET connection_id = $4::uuid, detached_at = NULL,
          next_attempt_at = CASE WHEN cardinality(dirty) > 0 OR pending_label IS NOT NULL THEN now() ELSE NULL END,
          version = version + 1, updated_at = now()
        WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3::bigint AND iid IS NOT NULL
          AND (detached_at IS NOT NULL OR connection_id IS DISTINCT FROM $4::uuid)`,
      [context.projectId, context.instanceUrl, context.gitlabProjectId, context.connectionId],
    );
    return attached;
  }

  /** Pushes that waited for a new token (GitLab refused the old one) are due again. */
  async retryAfterNewToken(tx: EntityManager, connectionId: string): Promise<number> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${T} SET next_attempt_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND detached_at IS NULL AND next_attempt_at IS NULL
          AND error_code IN ('AUTH_FAILED', 'TOKEN_EXPIRED')
          AND (push_state = 'queued' OR cardinality(dirty) > 0)`,
      [connectionId],
    );
    return count;
  }
}
