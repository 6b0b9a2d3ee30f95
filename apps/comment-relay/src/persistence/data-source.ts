import { createDataSource } from '@testkase/platform';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { SCHEMA } from './schema';

/** The one DataSource of comment-relay: used by the app and by the migration command. */
export const dataSourceSettings = (config: Pick<CommentRelayConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>) => ({
  url: config.DATABASE_URL,
  schema: SCHEMA,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  poolSize: config.DB_POOL_SIZE,
});

export const createCommentRelayDataSource = (
  config: Pick<CommentRelayConfig, 'DATABASE_URL' | 'DB_POOL_SIZE'>,
) => createDataSource({ ...dataSourceSettings(config), applicationName: 'comment-relay' });
