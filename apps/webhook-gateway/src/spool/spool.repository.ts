import { DataSource } from 'typeorm';

import { TransientError, withTimeout } from '@testkase/util';

import { SCHEMA } from '../persistence/schema';

/** A delivery as it is stored in the spool; the subject is without the environment's NATS prefix. */
export interface SpoolEntry {
  subject: string;
  msgId: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Set when the row can never be published as it is (e.g. too large for NATS). */
  parkedReason?: string;
}

export const SPOOL_TABLE = `"${SCHEMA}".spool`;

/** The request path's side of the spool: one INSERT per delivery JetStream could not take. */
export class SpoolRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly writeTimeoutMs: number,
  ) {}

  /** Whether the database connection pool has been set up (the database may be down at start). */
  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  /** Resolves once the row is committed; rejects when the database cannot take it in time. */
  async insert(entry: SpoolEntry): Promise<void> {
    if (!this.dataSource.isInitialized) throw new TransientError('the spool database is not connected');
    const insert = this.dataSource.query(
      `INSERT INTO ${SPOOL_TABLE} (subject, msg_id, headers, body, parked_at, last_error)
       VALUES ($1, $2, $3::jsonb, $4, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END, $5::text)`,
      [entry.subject, entry.msgId, JSON.stringify(entry.headers), entry.body, entry.parkedReason ?? null],
    ) as Promise<unknown>;
    const TIMED_OUT = Symbol('timeout');
    const result = await withTimeout(insert, this.writeTimeoutMs, TIMED_OUT);
    if (result === TIMED_OUT) {
      // It may still commit; the relay then publishes it and JetStream deduplicates by msg id.
      insert.catch(() => undefined);
      throw new TransientError(`the spool write took over ${this.writeTimeoutMs} ms`);
    }
  }
}
