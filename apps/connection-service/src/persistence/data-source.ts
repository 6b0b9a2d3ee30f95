import { createDataSource } from '@testkase/platform';

import type { ConnectionConfig } from '../config/connection-service.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { SCHEMA } from './schema';

/** The one DataSource of connection-service: used by the app and by the migration command. */
export const dataSourceSettings = (config: Pick<ConnectionConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) => ({
  url: config.DATABASE_URL,
  schema: SCHEMA,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  poolSize: config.DB_POOL_SIZE,
});

export const createConnectionDataSource = (config: Pick<ConnectionConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) =>
  createDataSource({ ...dataSourceSettings(config), applicationName: 'connection-service' });
