import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

import { onlyRow } from '@testkase/platform';

/**
 * The right to run one connection's job (a backfill, a sweep, a push lane) across every replica: a
 * session advisory lock on a database connection held for the whole job. The job's writes that must
 * not outlive the lease go through that same connection, so a replica that lost its connection (and
 * with it the lock) cannot commit them after another replica took over. A crashed process releases
 * the lock at once.
 */
export class JobLease {
  /** Transactions on the lease's one connection run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runner: QueryRunner,
    readonly connectionId: string,
  ) {}

  /** The lease, or null when another replica (or this one) holds it. */
  static async tryAcquire(
    dataSource: DataSource,
    namespace: number,
    connectionId: string,
  ): Promise<JobLease | null> {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.connect();
      const rows: Array<{ locked: boolean }> = await runner.query(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [namespace, connectionId],
      );
      if (rows[0]?.locked) return new JobLease(runner, connectionId);
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    await runner.release();
    return null;
  }

  /**
   * Runs `work` in a transaction on the lease's own connection. Calls made while one is open wait
   * for their turn (a job may work on several items at once; their commits share the connection).
   */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => this.runTransaction(work));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async runTransaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    await this.runner.startTransaction();
    try {
      const result = await work(this.runner.manager);
      await this.runner.commitTransaction();
      return result;
    } catch (error) {
      if (this.runner.isTransactionActive) await this.runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  /** The database's clock (the one `created_at` defaults use). */
  async now(): Promise<Date> {
    const rows: Array<{ now: Date }> = await this.runner.query('SELECT now() AS now');
    return onlyRow(rows, 'SELECT now()').now;
  }

  async release(): Promise<void> {
    // The connection goes back to the pool: it must not keep the lock.
    await this.runner.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await this.runner.release();
  }
}
