/**
 * `node dist/apps/comment-relay/src/migrate.js`: creates the database and the schema if missing and applies
 * pending migrations. Run by `npm start`, the Nx target migration-run, and the Helm hook job.
 */
import { createLogger, ensureDatabase, runMigrations } from '@testkase/platform';
import { loadConfigOrExit } from '@testkase/platform/config';

import { CommentRelayConfig } from './config/comment-relay.config';
import { createCommentRelayDataSource } from './persistence/data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit(CommentRelayConfig, 'comment-relay');
  const logger = createLogger({ service: 'comment-relay', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const applied = await runMigrations(createCommentRelayDataSource(config));
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
}

main().catch((error: unknown) => {
  process.stderr.write(`comment-relay: migration failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
