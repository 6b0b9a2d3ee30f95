import { assertIdentifier } from '../database/data-source.factory';
import type { Sql } from '../database/sql';
import { outboxChannel } from './outbox';

/** A parked outbox row as an operator sees it (the payload is left out: it may be megabytes). */
export interface ParkedOutboxRow {
  id: string;
  eventId: string;
  subject: string;
  type: string | null;
  bytes: number;
  attempts: number;
  parkReason: string;
  lastError: string | null;
  createdAt: Date;
  parkedAt: Date;
}

/** The parked rows of `schema`'s outbox, oldest first (those after row `afterId`, if given). */
export async function listParkedOutboxRows(
  sql: Sql,
  schema: string,
  limit = 100,
  afterId?: string,
): Promise<ParkedOutboxRow[]> {
  const table = `"${assertIdentifier(schema)}".outbox`;
  const rows = await sql.rows<{
    id: string;
    event_id: string;
    subject: string;
    type: string | null;
    bytes: number;
    attempts: number;
    park_reason: string;
    last_error: string | null;
    created_at: Date;
    parked_at: Date;
  }>(
    `SELECT id, event_id, subject, headers->>'ce-type' AS type, octet_length(payload) AS bytes, attempts,
            park_reason, last_error, created_at, parked_at
       FROM ${table} WHERE parked_at IS NOT NULL AND published_at IS NULL AND id > $2::bigint
      ORDER BY id LIMIT $1`,
    [limit, afterId ?? '0'],
  );
  return rows.map((row) => ({
    id: String(row.id),
    eventId: row.event_id,
    subject: row.subject,
    type: row.type,
    bytes: Number(row.bytes),
    attempts: row.attempts,
    parkReason: row.park_reason,
    lastError: row.last_error,
    createdAt: row.created_at,
    parkedAt: row.parked_at,
  }));
}

/**
 * Gives parked rows back to the relay (all of them, or those of `ids`) with their failure count
 * reset, and wakes it; a row that still cannot be published is parked again. Resolves to the ids
 * replayed. Replay once the cause is gone (e.g. the server's `max_payload` raised, a stream added).
 */
export async function replayParkedOutboxRows(
  sql: Sql,
  schema: string,
  selection: { ids: readonly string[] } | 'all',
): Promise<string[]> {
  const table = `"${assertIdentifier(schema)}".outbox`;
  const rows = await sql.rows<{ id: string }>(
    `WITH replayed AS (
       UPDATE ${table} SET parked_at = NULL, park_reason = NULL, attempts = 0
        WHERE parked_at IS NOT NULL AND published_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
        RETURNING id
     )
     SELECT id, pg_notify($2, '') FROM replayed ORDER BY id`,
    [selection === 'all' ? null : [...selection.ids], outboxChannel(schema)],
  );
  return rows.map((row) => String(row.id));
}
