import type { DataSource } from 'typeorm';

import type { DatabaseConnector, Logger } from '@testkase/platform';

import { SCHEMA } from '../persistence/schema';

const TABLE = `"${SCHEMA}".verifiers`;
/** Changes are written together, at most this often (a bucket load writes thousands at once). */
const FLUSH_DELAY_MS = 250;
/** After failed writes (Postgres down), the next attempt waits up to this long. */
const MAX_RETRY_DELAY_MS = 30_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A copy of the verifier bucket in the gateway's own schema, written behind the watch: a gateway
 * that starts while NATS is down loads it and keeps authenticating (and spooling) deliveries,
 * instead of refusing every one (GitLab does not retry, and disables hooks that keep failing).
 * It holds what the bucket holds (secret hashes, state), never a signing key. A failed write is
 * retried with the next change; the bucket stays the source of truth.
 */
export class VerifierSnapshot {
  /** Connection id → the entry to save, or null to remove it. */
  private pending = new Map<string, unknown>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly connector: Pick<DatabaseConnector, 'connect'>,
    private readonly logger: Logger,
  ) {}

  /** Every saved entry, once the database is connected (raw: the caller validates them as it does the bucket's). */
  async load(): Promise<Array<{ connectionId: string; entry: unknown }>> {
    await this.connector.connect();
    const rows: Array<{ connection_id: string; entry: unknown }> = await this.dataSource.query(
      `SELECT connection_id, entry FROM ${TABLE}`,
    );
    return rows.map((row) => ({ connectionId: row.connection_id, entry: row.entry }));
  }

  save(connectionId: string, entry: unknown): void {
    this.pending.set(connectionId, entry);
    this.schedule();
  }

  remove(connectionId: string): void {
    if (!UUID.test(connectionId)) return; // never saved: only valid entries (keyed by their id) are
    this.pending.set(connectionId, null);
    this.schedule();
  }

  /** Writes what is pending now (on shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.write());
    await this.flushing;
  }

  private schedule(): void {
    const delay = Math.min(FLUSH_DELAY_MS * 2 ** this.failures, MAX_RETRY_DELAY_MS);
    this.timer ??= setTimeout(() => void this.flush(), delay);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const saved = [...batch].filter(([, entry]) => entry !== null);
    const removed = [...batch].filter(([, entry]) => entry === null).map(([id]) => id);
    try {
      await this.dataSource.transaction(async (tx) => {
        if (saved.length > 0) {
          await tx.query(
            `INSERT INTO ${TABLE} (connection_id, entry)
             SELECT (e.key)::uuid, e.value FROM jsonb_each($1::jsonb) AS e
             ON CONFLICT (connection_id) DO UPDATE SET entry = excluded.entry, saved_at = now()`,
            [JSON.stringify(Object.fromEntries(saved))],
          );
        }
        if (removed.length > 0) {
          await tx.query(`DELETE FROM ${TABLE} WHERE connection_id = ANY($1::uuid[])`, [removed]);
        }
      });
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      // Keep the batch for the next attempt, unless a newer change replaced an entry meanwhile.
      for (const [id, entry] of batch) if (!this.pending.has(id)) this.pending.set(id, entry);
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.logger.warn(
          { err: error, entries: this.pending.size, failures: this.failures },
          'could not save the webhook verifier snapshot; retrying',
        );
      }
      this.schedule();
    }
  }
}
