import type { DataSource } from 'typeorm';

import type { RequestCategory, SharedLimiterStore } from '@testkase/gitlab';
import { assertIdentifier } from '@testkase/platform';
import { TransientError } from '@testkase/util';

/** Rows whose slot lies this far in the past say nothing a missing row would not; they are purged. */
const STALE_MS = 60_000;
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * The token budgets a consumer's replicas share, in its own schema (`<schema>.gitlab_rate_limits`,
 * created by {@link GitlabRateLimitsMigrationV1}). Each reservation is one atomic upsert on the
 * token's row — `next = max(next, now) + interval` — so concurrent replicas queue behind each other
 * exactly as callers in one process do, and "now" is Postgres's clock, which every replica shares.
 * @throws TransientError (SERVICE_UNAVAILABLE) when Postgres does not answer
 */
export class PostgresLimiterStore implements SharedLimiterStore {
  private readonly table: string;
  private lastPurgeAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
  ) {
    this.table = `"${assertIdentifier(schema)}".gitlab_rate_limits`;
  }

  async reserve(
    key: string,
    category: RequestCategory,
    intervalMs: number,
    toleranceMs: number,
  ): Promise<number> {
    this.purgeNowAndThen();
    const rows = await this.query<{ wait_ms: number }>(
      `WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms)
       INSERT INTO ${this.table} AS r (token_key, category, next_at_ms)
       SELECT $1, $2, clock.now_ms + $3::float8 FROM clock
       ON CONFLICT (token_key, category) DO UPDATE
         SET next_at_ms = GREATEST(r.next_at_ms, excluded.next_at_ms - $3::float8) + $3::float8
       RETURNING GREATEST(0, r.next_at_ms - $3::float8 - $4::float8 - (SELECT now_ms FROM clock)) AS wait_ms`,
      [key, category, intervalMs, toleranceMs],
    );
    return Math.ceil(Number(rows[0]?.wait_ms ?? 0));
  }

  async pausedFor(key: string): Promise<number> {
    const rows = await this.query<{ remaining_ms: number }>(
      `SELECT GREATEST(0, next_at_ms - extract(epoch FROM clock_timestamp()) * 1000)::float8 AS remaining_ms
         FROM ${this.table} WHERE token_key = $1 AND category = 'pause'`,
      [key],
    );
    return Math.ceil(Number(rows[0]?.remaining_ms ?? 0));
  }

  async pauseFor(key: string, ms: number): Promise<void> {
    await this.query(
      `INSERT INTO ${this.table} AS r (token_key, category, next_at_ms)
       VALUES ($1, 'pause', extract(epoch FROM clock_timestamp()) * 1000 + $2::float8)
       ON CONFLICT (token_key, category) DO UPDATE
         SET next_at_ms = GREATEST(r.next_at_ms, excluded.next_at_ms)`,
      [key, ms],
    );
  }

  private async query<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    try {
      return (await this.dataSource.query(sql, parameters)) as T[];
    } catch (error) {
      throw new TransientError('the shared GitLab rate-limit store did not answer', {
        cause: error,
        details: { cause: (error as Error).message },
      });
    }
  }

  /** Drops rows of tokens idle for a while (at most every 10 minutes, in the background). */
  private purgeNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPurgeAt < PURGE_EVERY_MS) return;
    this.lastPurgeAt = now;
    void this.dataSource
      .query(
        `DELETE FROM ${this.table}
          WHERE next_at_ms < extract(epoch FROM clock_timestamp()) * 1000 - $1::float8`,
        [STALE_MS],
      )
      .catch(() => undefined);
  }
}
