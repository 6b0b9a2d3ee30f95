import { createDataSource } from '@testkase/platform';

import type { GatewayConfig } from '../config/webhook-gateway.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { SCHEMA } from './schema';

/** The one DataSource of webhook-gateway: used by the app and by the migration command. */
export const dataSourceSettings = (config: Pick<GatewayConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) => ({
  url: config.DATABASE_URL,
  schema: SCHEMA,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  poolSize: config.DB_POOL_SIZE,
});

export const createGatewayDataSource = (config: Pick<GatewayConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) =>
  createDataSource({ ...dataSourceSettings(config), applicationName: 'webhook-gateway' });
