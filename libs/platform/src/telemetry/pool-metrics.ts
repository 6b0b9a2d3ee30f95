import type { DataSource } from 'typeorm';

import type { MetricsRegistry } from './metrics';

/** What `pg.Pool` counts: its clients, the idle ones, and the queries waiting for one. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** The pg Pool behind a TypeORM DataSource (the Postgres driver's `master`), once it is connected. */
export function poolOfDataSource(dataSource: DataSource): PoolCounts | undefined {
  if (!dataSource.isInitialized) return undefined;
  const pool = (dataSource.driver as unknown as { master?: Partial<PoolCounts> }).master;
  return typeof pool?.totalCount === 'number' ? (pool as PoolCounts) : undefined;
}

/**
 * `db_pool_connections`, `db_pool_idle_connections` and `db_pool_waiting_clients`, read from the pool
 * at each scrape (no timer, nothing on the query path). 0 while the pool does not exist.
 */
export function registerPoolMetrics(metrics: MetricsRegistry, pool: () => PoolCounts | undefined): void {
  metrics.gauge('db_pool_connections', 'Connections the database pool holds (busy and idle)', [], (g) =>
    g.set(pool()?.totalCount ?? 0),
  );
  metrics.gauge('db_pool_idle_connections', 'Connections of the database pool not in use', [], (g) =>
    g.set(pool()?.idleCount ?? 0),
  );
  metrics.gauge(
    'db_pool_waiting_clients',
    'Queries waiting for a connection of the database pool (the pool is exhausted when > 0)',
    [],
    (g) => g.set(pool()?.waitingCount ?? 0),
  );
}
