import { createDataSource } from '@testkase/platform';

import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { SCHEMA } from './schema';

/** The one DataSource of requirement-sync: used by the app and by the migration command. */
export const dataSourceSettings = (config: Pick<RequirementSyncConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) => ({
  url: config.DATABASE_URL,
  schema: SCHEMA,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  poolSize: config.DB_POOL_SIZE,
});

export const createRequirementSyncDataSource = (
  config: Pick<RequirementSyncConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
) => createDataSource({ ...dataSourceSettings(config), applicationName: 'requirement-sync' });
