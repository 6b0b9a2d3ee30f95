import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { updatedRows } from '../persistence/returning';
import { SCHEMA } from '../persistence/schema';

const N = `"${SCHEMA}".relayed_notes`;

/** A row of comment_relay.relayed_notes: a GitLab note relayed to TestKase as a defect comment. */
export interface RelayedNoteRecord {
  connection_id: string;
  note_id: string;
  project_id: string;
  defect_id: string;
  iid: number;
  body_sha256: string;
  internal: boolean;
  gl_updated_at: Date;
  deleted_at: Date | null;
}

/** SQL of the relayed notes. Every method runs in the caller's transaction. */
@Injectable()
export class RelayedNoteRepository {
  async find(
    tx: EntityManager,
    connectionId: string,
    noteId: number,
    lock = false,
  ): Promise<RelayedNoteRecord | null> {
    const rows: RelayedNoteRecord[] = await tx.query(
      `SELECT * FROM ${N} WHERE connection_id = $1::uuid AND note_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [connectionId, noteId],
    );
    return rows[0] ?? null;
  }

  /** @returns false when another transaction recorded it first */
  async insert(
    tx: EntityManager,
    row: Omit<RelayedNoteRecord, 'deleted_at' | 'note_id'> & { note_id: number },
  ) {
    const rows: unknown[] = await tx.query(
      `INSERT INTO ${N} (connection_id, note_id, project_id, defect_id, iid, body_sha256, internal, gl_updated_at)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1`,
      [
        row.connection_id,
        row.note_id,
        row.project_id,
        row.defect_id,
        row.iid,
        row.body_sha256,
        row.internal,
        row.gl_updated_at,
      ],
    );
    return rows.length > 0;
  }

  async edited(
    tx: EntityManager,
    connectionId: string,
    noteId: number,
    sha: string,
    internal: boolean,
    at: Date,
  ) {
    await tx.query(
      `UPDATE ${N} SET body_sha256 = $3, internal = $4, gl_updated_at = $5 WHERE connection_id = $1::uuid AND note_id = $2`,
      [connectionId, noteId, sha, internal, at],
    );
  }

  /** Relayed notes of an issue that are not deleted. */
  async liveOfIssue(tx: EntityManager, connectionId: string, iid: number): Promise<RelayedNoteRecord[]> {
    return tx.query(`SELECT * FROM ${N} WHERE connection_id = $1::uuid AND iid = $2 AND deleted_at IS NULL`, [
      connectionId,
      iid,
    ]);
  }

  async markDeleted(
    tx: EntityManager,
    connectionId: string,
    noteIds: readonly number[],
  ): Promise<RelayedNoteRecord[]> {
    if (noteIds.length === 0) return [];
    return updatedRows(
      tx,
      `UPDATE ${N} SET deleted_at = now() WHERE connection_id = $1::uuid AND note_id = ANY($2::bigint[])
         AND deleted_at IS NULL RETURNING *`,
      [connectionId, noteIds],
    );
  }
}
