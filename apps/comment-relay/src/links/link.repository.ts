import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { onlyRow } from '@testkase/platform';

import { updatedRows } from '../persistence/returning';
import { SCHEMA } from '../persistence/schema';
import type { LinkCommentRecord, TestCaseLinkRecord } from './link.records';

const L = `"${SCHEMA}".test_case_links`;
const C = `"${SCHEMA}".link_comments`;

export interface LinkInput {
  readonly key: string;
  readonly title: string;
  readonly url: string;
  readonly status: string | null;
}

/** Debounce settings of the comment (LINK_DEBOUNCE, LINK_MAX_DELAY). */
export interface Debounce {
  readonly quietMs: number;
  readonly maxDelayMs: number;
}

/** SQL of the linked test cases and their comment. Every method runs in the caller's transaction. */
@Injectable()
export class LinkRepository {
  /** The requirement's comment row, created if missing, locked for the transaction. */
  async lockComment(
    tx: EntityManager,
    projectId: string,
    requirementId: string,
    connectionId: string | null,
  ): Promise<LinkCommentRecord> {
    await tx.query(
      `INSERT INTO ${C} (project_id, requirement_id, connection_id, waiting_since)
       VALUES ($1, $2::uuid, $3::uuid, CASE WHEN $3::uuid IS NULL THEN now() END)
       ON CONFLICT (project_id, requirement_id) DO NOTHING`,
      [projectId, requirementId, connectionId],
    );
    const rows: LinkCommentRecord[] = await tx.query(
      `SELECT * FROM ${C} WHERE project_id = $1 AND requirement_id = $2::uuid FOR UPDATE`,
      [projectId, requirementId],
    );
    return onlyRow(rows, 'the update');
  }

  async findComment(
    tx: EntityManager,
    projectId: string,
    requirementId: string,
  ): Promise<LinkCommentRecord | null> {
    const rows: LinkCommentRecord[] = await tx.query(
      `SELECT * FROM ${C} WHERE project_id = $1 AND requirement_id = $2::uuid`,
      [projectId, requirementId],
    );
    return rows[0] ?? null;
  }

  async findCommentById(tx: EntityManager, id: string): Promise<LinkCommentRecord | null> {
    const rows: LinkCommentRecord[] = await tx.query(`SELECT * FROM ${C} WHERE id = $1::uuid`, [id]);
    return rows[0] ?? null;
  }

  /** @returns whether anything the comment shows changed */
  async put(
    tx: EntityManager,
    projectId: string,
    requirementId: string,
    testCaseId: string,
    link: LinkInput,
  ): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO ${L} AS l (project_id, requirement_id, test_case_id, key, title, url, status)
       VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)
       ON CONFLICT (project_id, requirement_id, test_case_id) DO UPDATE SET
         key = excluded.key, title = excluded.title, url = excluded.url, status = excluded.status, updated_at = now()
       WHERE (l.key, l.title, l.url, l.status) IS DISTINCT FROM (excluded.key, excluded.title, excluded.url, excluded.status)
       RETURNING 1`,
      [projectId, requirementId, testCaseId, link.key, link.title, link.url, link.status],
    );
    return rows.length > 0;
  }

  /** @returns whether the link existed */
  async remove(
    tx: EntityManager,
    projectId: string,
    requirementId: string,
    testCaseId: string,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `DELETE FROM ${L} WHERE project_id = $1 AND requirement_id = $2::uuid AND test_case_id = $3`,
      [projectId, requirementId, testCaseId],
    );
    return count > 0;
  }

  async links(tx: EntityManager, projectId: string, requirementId: string): Promise<TestCaseLinkRecord[]> {
    return tx.query(
      `SELECT * FROM ${L} WHERE project_id = $1 AND requirement_id = $2::uuid ORDER BY key, test_case_id`,
      [projectId, requirementId],
    );
  }

  /**
   * The list changed: the comment is due after a quiet `quietMs`, and never later than `maxDelayMs`
   * after the first change it has not shown yet. Without a known requirement it only waits.
   */
  async changed(tx: EntityManager, id: string, debounce: Debounce): Promise<LinkCommentRecord> {
    const rows = await updatedRows<LinkCommentRecord>(
      tx,
      `UPDATE ${C} SET revision = revision + 1, dirty_since = coalesce(dirty_since, now()),
          next_attempt_at = CASE WHEN connection_id IS NULL THEN NULL ELSE least(
            now() + make_interval(secs => $2::float8),
            coalesce(dirty_since, now()) + make_interval(secs => $3::float8)) END,
          failures = 0, error_code = NULL, error_message = NULL, error_at = NULL, updated_at = now()
        WHERE id = $1::uuid RETURNING *`,
      [id, debounce.quietMs / 1000, debounce.maxDelayMs / 1000],
    );
    return onlyRow(rows, 'the update');
  }

  /** Comments due now on a connection, none of `busy`. */
  async due(
    tx: EntityManager,
    connectionId: string,
    limit: number,
    busy: readonly string[],
  ): Promise<LinkCommentRecord[]> {
    return tx.query(
      `SELECT * FROM ${C} WHERE connection_id = $1::uuid AND next_attempt_at <= now() AND NOT (id = ANY($3::uuid[]))
        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [connectionId, limit, busy],
    );
  }

  /** The requirement is known (now, or on a new connection): its waiting comment becomes due. */
  async targetKnown(
    tx: EntityManager,
    projectId: string,
    requirementId: string,
    connectionId: string,
    rewrite: boolean,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${C} SET connection_id = $3::uuid, waiting_since = NULL,
          next_attempt_at = CASE WHEN $4 OR revision > written_revision THEN now() ELSE next_attempt_at END,
          updated_at = now()
        WHERE project_id = $1 AND requirement_id = $2::uuid`,
      [projectId, requirementId, connectionId, rewrite],
    );
    return count > 0;
  }

  /** Before a create: if the process dies before the note id is committed, the retry looks for the note first. */
  async markOutcomeUnknown(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`UPDATE ${C} SET outcome_unknown = true, updated_at = now() WHERE id = $1::uuid`, [id]);
  }

  /** The comment shows `revision` now (or, with noteId null, no comment exists). */
  async written(
    tx: EntityManager,
    id: string,
    result: { revision: number; noteId: number | null; internal: boolean | null; sha256: string | null },
    debounce: Debounce,
  ): Promise<LinkCommentRecord | null> {
    const rows = await updatedRows<LinkCommentRecord>(
      tx,
      `UPDATE ${C} SET written_revision = greatest(written_revision, $2), note_id = $3, note_internal = $4,
          body_sha256 = $5, outcome_unknown = false, failures = 0, error_code = NULL, error_message = NULL,
          error_at = NULL,
          -- Changes made while this write was in flight start a new debounce: the old dirty_since
          -- belongs to changes now written, and would make the next write due at once.
          dirty_since = CASE WHEN revision > $2 THEN now() END,
          next_attempt_at = CASE WHEN revision > $2 THEN now() + make_interval(secs =>
                                   least($6::float8, $7::float8)) END,
          updated_at = now()
        WHERE id = $1::uuid RETURNING *`,
      [
        id,
        result.revision,
        result.noteId,
        result.internal,
        result.sha256,
        debounce.quietMs / 1000,
        debounce.maxDelayMs / 1000,
      ],
    );
    return rows[0] ?? null;
  }

  /** Nothing to write now (the requirement is not synced here): the comment waits. */
  async idle(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`UPDATE ${C} SET next_attempt_at = NULL, updated_at = now() WHERE id = $1::uuid`, [id]);
  }

  async failed(
    tx: EntityManager,
    id: string,
    failure: { code: string; message: string },
    retryAt: Date | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${C} SET failures = failures + 1, error_code = $2, error_message = $3, error_at = now(),
          next_attempt_at = $4, updated_at = now() WHERE id = $1::uuid`,
      [id, failure.code, failure.message, retryAt],
    );
  }

  /** A sweep saw our comment gone from GitLab: write it again (when there is something to show). */
  async noteGone(tx: EntityManager, connectionId: string, noteIds: readonly number[]): Promise<number> {
    if (noteIds.length === 0) return 0;
    const [, count]: [unknown[], number] = await tx.query(
      `UPDATE ${C} SET note_id = NULL, note_internal = NULL, body_sha256 = NULL, next_attempt_at = now(),
          revision = revision + 1, updated_at = now()
        WHERE connection_id = $1::uuid AND note_id = ANY($2::bigint[])`,
      [connectionId, noteIds],
    );
    return count;
  }

  async markNotesChecked(tx: EntityManager, connectionId: string, noteIds: readonly number[]): Promise<void> {
    if (noteIds.length === 0) return;
    await tx.query(
      `UPDATE ${C} SET notes_checked_at = now() WHERE connection_id = $1::uuid AND note_id = ANY($2::bigint[])`,
      [connectionId, noteIds],
    );
  }
}
