/**
 * `node dist/apps/defect-sync/src/migrate.js`: creates the database and the schema if missing and applies
 * pending migrations. Run by `npm start`, the Nx target migration-run, and the Helm hook job.
 */
import { createLogger, ensureDatabase, runMigrations } from '@testkase/platform';
import { loadConfigOrExit } from '@testkase/platform/config';

import { DefectSyncConfig } from './config/defect-sync.config';
import { createDefectSyncDataSource } from './persistence/data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit(DefectSyncConfig, 'defect-sync');
  const logger = createLogger({ service: 'defect-sync', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const applied = await runMigrations(createDefectSyncDataSource(config));
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
}

main().catch((error: unknown) => {
  process.stderr.write(`defect-sync: migration failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
