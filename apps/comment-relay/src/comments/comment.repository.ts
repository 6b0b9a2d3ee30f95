import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { onlyRow } from '@testkase/platform';

import { updatedRows } from '../persistence/returning';
import { SCHEMA } from '../persistence/schema';
import type { CommentRecord } from './comment.records';

const M = `"${SCHEMA}".comments`;

/** SQL of the comments TestKase posts on defects. Every method runs in the caller's transaction. */
@Injectable()
export class CommentRepository {
  async find(tx: EntityManager, projectId: string, defectId: string, commentId: string, lock = false) {
    const rows: CommentRecord[] = await tx.query(
      `SELECT * FROM ${M} WHERE project_id = $1 AND defect_id = $2 AND comment_id = $3${lock ? ' FOR UPDATE' : ''}`,
      [projectId, defectId, commentId],
    );
    return rows[0] ?? null;
  }

  async findById(tx: EntityManager, id: string): Promise<CommentRecord | null> {
    const rows: CommentRecord[] = await tx.query(`SELECT * FROM ${M} WHERE id = $1::uuid`, [id]);
    return rows[0] ?? null;
  }

  /** Records a new comment (due now when its defect is known); null when the id exists already. */
  async insert(
    tx: EntityManager,
    row: {
      projectId: string;
      defectId: string;
      commentId: string;
      connectionId: string | null;
      author: string;
      body: string;
    },
  ): Promise<CommentRecord | null> {
    const rows: CommentRecord[] = await tx.query(
      `INSERT INTO ${M} (project_id, defect_id, comment_id, connection_id, author, body, next_attempt_at, waiting_since)
       VALUES ($1, $2, $3, $4::uuid, $5, $6, CASE WHEN $4::uuid IS NOT NULL THEN now() END,
               CASE WHEN $4::uuid IS NULL THEN now() END)
       ON CONFLICT (project_id, defect_id, comment_id) DO NOTHING RETURNING *`,
      [row.projectId, row.defectId, row.commentId, row.connectionId, row.author, row.body],
    );
    return rows[0] ?? null;
  }

  /** A new body, or the deletion, to write. */
  async change(
    tx: EntityManager,
    id: string,
    change: { author?: string; body?: string; deleted?: boolean },
  ): Promise<CommentRecord> {
    const rows = await updatedRows<CommentRecord>(
      tx,
      `UPDATE ${M} SET author = coalesce($2, author), body = coalesce($3, body), deleted = coalesce($4, deleted),
          revision = revision + 1, failures = 0, error_code = NULL, error_message = NULL, error_at = NULL,
          next_attempt_at = CASE WHEN connection_id IS NOT NULL THEN now() END, updated_at = now()
        WHERE id = $1::uuid RETURNING *`,
      [id, change.author ?? null, change.body ?? null, change.deleted ?? null],
    );
    return onlyRow(rows, 'the update');
  }

  async due(
    tx: EntityManager,
    connectionId: string,
    limit: number,
    busy: readonly string[],
  ): Promise<CommentRecord[]> {
    return tx.query(
      `SELECT * FROM ${M} WHERE connection_id = $1::uuid AND next_attempt_at <= now() AND NOT (id = ANY($3::uuid[]))
        ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [connectionId, limit, busy],
    );
  }

  /** The defect is known (now, or on a new connection): its waiting comments become due. */
  async targetKnown(
    tx: EntityManager,
    projectId: string,
    defectId: string,
    connectionId: string,
  ): Promise<number> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${M} SET connection_id = $3::uuid, waiting_since = NULL,
          next_attempt_at = CASE WHEN revision > written_revision THEN now() ELSE next_attempt_at END, updated_at = now()
        WHERE project_id = $1 AND defect_id = $2`,
      [projectId, defectId, connectionId],
    );
    return count;
  }

  async markOutcomeUnknown(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`UPDATE ${M} SET outcome_unknown = true, updated_at = now() WHERE id = $1::uuid`, [id]);
  }

  async written(
    tx: EntityManager,
    id: string,
    revision: number,
    noteId: number | null,
  ): Promise<CommentRecord | null> {
    const rows = await updatedRows<CommentRecord>(
      tx,
      `UPDATE ${M} SET written_revision = greatest(written_revision, $2), note_id = $3, outcome_unknown = false,
          failures = 0, error_code = NULL, error_message = NULL, error_at = NULL,
          next_attempt_at = CASE WHEN revision > $2 THEN now() END, updated_at = now()
        WHERE id = $1::uuid RETURNING *`,
      [id, revision, noteId],
    );
    return rows[0] ?? null;
  }

  async idle(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`UPDATE ${M} SET next_attempt_at = NULL, updated_at = now() WHERE id = $1::uuid`, [id]);
  }

  async failed(
    tx: EntityManager,
    id: string,
    failure: { code: string; message: string },
    retryAt: Date | null,
  ) {
    await tx.query(
      `UPDATE ${M} SET failures = failures + 1, error_code = $2, error_message = $3, error_at = now(),
          next_attempt_at = $4, updated_at = now() WHERE id = $1::uuid`,
      [id, failure.code, failure.message, retryAt],
    );
  }

  /** Whether a note on this connection is one comment-relay wrote (a TestKase comment or a link comment). */
  async isOurNote(tx: EntityManager, connectionId: string, noteId: number): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM ${M} WHERE connection_id = $1::uuid AND note_id = $2
       UNION ALL SELECT 1 FROM "${SCHEMA}".link_comments WHERE connection_id = $1::uuid AND note_id = $2 LIMIT 1`,
      [connectionId, noteId],
    );
    return rows.length > 0;
  }

  /** Failed writes worth another try at a sweep (not those that need someone to act). */
  async retryFailed(tx: EntityManager, connectionId: string): Promise<number> {
    let total = 0;
    for (const table of [M, `"${SCHEMA}".link_comments`]) {
      const [, count]: [unknown[], number] = await tx.query(
        `UPDATE ${table} SET next_attempt_at = now(), updated_at = now()
          WHERE connection_id = $1::uuid AND revision > written_revision AND next_attempt_at IS NULL
            AND waiting_since IS NULL AND error_code IS NOT NULL
            AND error_code NOT IN ('AUTH_FAILED', 'TOKEN_EXPIRED', 'GITLAB_NOT_FOUND')`,
        [connectionId],
      );
      total += count;
    }
    return total;
  }
}
