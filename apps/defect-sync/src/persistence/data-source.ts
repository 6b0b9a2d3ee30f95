import { createDataSource } from '@testkase/platform';

import type { DefectSyncConfig } from '../config/defect-sync.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { SCHEMA } from './schema';

/** The one DataSource of defect-sync: used by the app and by the migration command. */
export const dataSourceSettings = (config: Pick<DefectSyncConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) => ({
  url: config.DATABASE_URL,
  schema: SCHEMA,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  poolSize: config.DB_POOL_SIZE,
});

export const createDefectSyncDataSource = (config: Pick<DefectSyncConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) =>
  createDataSource({ ...dataSourceSettings(config), applicationName: 'defect-sync' });
