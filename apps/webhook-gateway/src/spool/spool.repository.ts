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
const SPOOL_USAGE_TABLE = `"${SCHEMA}".spool_usage`;
const PARKED_LOCK_KEY = `spool-parked:${SCHEMA}`;

/** Most bytes of parked deliveries kept for one connection (its subjects) and for all. */
export interface ParkedQuota {
  /** `gitlab.events.<connectionId>.`: the connection's rows, whatever their kind. */
  subjectPrefix: string;
  connectionBytes: number;
  totalBytes: number;
}

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

  /**
   * Spools a delivery for the relay, within its connection's quota of pending bytes
   * (`spool_usage`, kept by a trigger): resolves `true` once the row is committed, `false` (nothing
   * written) when it does not fit; rejects when the database cannot take it in time. Concurrent
   * deliveries of one connection may overshoot the quota by what they hold in flight together
   * (bounded by the gateway's in-flight caps).
   */
  async insert(entry: SpoolEntry, pendingQuotaBytes: number): Promise<boolean> {
    if (!this.dataSource.isInitialized) throw new TransientError('the spool database is not connected');
    const insert = this.dataSource.query(
      `INSERT INTO ${SPOOL_TABLE} (subject, msg_id, headers, body)
       SELECT $1::text, $2::text, $3::jsonb, $4::bytea
        WHERE coalesce((SELECT pending_bytes FROM ${SPOOL_USAGE_TABLE}
                         WHERE connection_key = split_part($1::text, '.', 3)), 0) + length($4::bytea)
              <= $5::bigint
       RETURNING id`,
      [entry.subject, entry.msgId, JSON.stringify(entry.headers), entry.body, pendingQuotaBytes],
    ) as Promise<unknown[]>;
    return (await this.withinWriteTimeout(insert)).length > 0;
  }

  /**
   * Parks a delivery that can never be published as it is, within the quota of parked bytes of its
   * connection and of the spool as a whole; `false` (nothing written) when it does not fit. The
   * check and the insert run under one transaction-scoped advisory lock, so that concurrent
   * deliveries cannot overshoot the quota together (parked rows are rare).
   */
  async insertParked(entry: SpoolEntry & { parkedReason: string }, quota: ParkedQuota): Promise<boolean> {
    if (!this.dataSource.isInitialized) throw new TransientError('the spool database is not connected');
    const insert = this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [PARKED_LOCK_KEY]);
      const rows = (await manager.query(
        `WITH used AS (
           SELECT coalesce(sum(length(body)) FILTER (WHERE subject LIKE $6::text), 0) AS connection,
                  coalesce(sum(length(body)), 0) AS total
             FROM ${SPOOL_TABLE} WHERE parked_at IS NOT NULL)
         INSERT INTO ${SPOOL_TABLE} (subject, msg_id, headers, body, parked_at, last_error)
         SELECT $1::text, $2::text, $3::jsonb, $4::bytea, now(), $5::text FROM used
          WHERE used.connection + length($4::bytea) <= $7::bigint
            AND used.total + length($4::bytea) <= $8::bigint
         RETURNING id`,
        [
          entry.subject,
          entry.msgId,
          JSON.stringify(entry.headers),
          entry.body,
          entry.parkedReason,
          `${quota.subjectPrefix}%`,
          quota.connectionBytes,
          quota.totalBytes,
        ],
      )) as unknown[];
      return rows.length > 0;
    });
    return this.withinWriteTimeout(insert);
  }

  private async withinWriteTimeout<T>(write: Promise<T>): Promise<T> {
    const TIMED_OUT = Symbol('timeout');
    const result = await withTimeout(write, this.writeTimeoutMs, TIMED_OUT);
    if (result === TIMED_OUT) {
      // It may still commit; the relay then publishes it and JetStream deduplicates by msg id.
      write.catch(() => undefined);
      throw new TransientError(`the spool write took over ${this.writeTimeoutMs} ms`);
    }
    return result as T;
  }
}
