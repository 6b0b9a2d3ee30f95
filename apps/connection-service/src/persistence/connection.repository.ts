import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type EntityManager } from 'typeorm';

import { ConnectionEntity } from './entities/connection.entity';
import { SCHEMA } from './schema';

type Db = DataSource | EntityManager;

/** Reads and writes of the connections table. Methods taking a transaction lock what they read. */
@Injectable()
export class ConnectionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in a transaction holding the project's advisory lock, so connect, rotate and
   * disconnect of one TestKase project never interleave, on any replica.
   */
  withProjectLock<T>(projectId: string, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`connection-project:${projectId}`]);
      return work(tx);
    });
  }

  /** The live (not disconnected) connection of a project, row-locked inside a transaction. */
  findLive(db: Db, projectId: string): Promise<ConnectionEntity | null> {
    return this.repo(db).findOne({
      where: { projectId, disconnectedAt: IsNull() },
      ...(db instanceof DataSource ? {} : { lock: { mode: 'pessimistic_write' as const } }),
    });
  }

  /** A connection of this project to this GitLab project, live or not (a reconnect reuses it). */
  findByTarget(
    db: Db,
    projectId: string,
    instanceUrl: string,
    gitlabProjectId: number,
  ): Promise<ConnectionEntity | null> {
    return this.repo(db).findOne({
      where: { projectId, instanceUrl, gitlabProjectId },
      ...(db instanceof DataSource ? {} : { lock: { mode: 'pessimistic_write' as const } }),
    });
  }

  findById(db: Db, id: string): Promise<ConnectionEntity | null> {
    return this.repo(db).findOneBy({ id });
  }

  /** Locks a live connection for an update, or returns null when another transaction holds it. */
  async lockLiveById(tx: EntityManager, id: string, skipLocked = false): Promise<ConnectionEntity | null> {
    return this.repo(tx).findOne({
      where: { id, disconnectedAt: IsNull() },
      lock: { mode: 'pessimistic_write', ...(skipLocked ? { onLocked: 'skip_locked' as const } : {}) },
    });
  }

  listLive(db: Db): Promise<ConnectionEntity[]> {
    return this.repo(db).find({ where: { disconnectedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  /** Ids of live connections whose last health check is older than `intervalMs`. */
  async dueForHealthCheck(intervalMs: number, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM "${SCHEMA}".connections
        WHERE disconnected_at IS NULL
          AND (health_checked_at IS NULL OR health_checked_at <= now() - make_interval(secs => $1::double precision / 1000))
        ORDER BY health_checked_at NULLS FIRST
        LIMIT $2`,
      [intervalMs, limit],
    );
    return rows.map((row) => row.id);
  }

  lockById(tx: EntityManager, id: string): Promise<ConnectionEntity | null> {
    return this.repo(tx).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async save(db: Db, row: ConnectionEntity): Promise<void> {
    await this.repo(db).save(row);
  }

  private repo(db: Db) {
    return db.getRepository(ConnectionEntity);
  }
}
