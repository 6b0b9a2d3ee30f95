/**
 * `node dist/apps/connection-service/src/migrate.js`: creates the database and the schema if missing and applies
 * pending migrations. Run by `npm start`, the Nx target migration-run, and the Helm hook job.
 */
import { createLogger, ensureDatabase, runMigrations } from '@testkase/platform';
import { loadConfigOrExit } from '@testkase/platform/config';

import { ConnectionConfig } from './config/connection-service.config';
import { createConnectionDataSource } from './persistence/data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit(ConnectionConfig, 'connection-service');
  const logger = createLogger({ service: 'connection-service', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const applied = await runMigrations(createConnectionDataSource(config));
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
}

main().catch((error: unknown) => {
  process.stderr.write(`connection-service: migration failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
