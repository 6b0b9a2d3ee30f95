/**
 * `node dist/apps/webhook-gateway/src/migrate.js`: creates the database and the schema if missing and applies
 * pending migrations. Run by `npm start`, the Nx target migration-run, and the Helm hook job.
 */
import { createLogger, ensureDatabase, runMigrations } from '@testkase/platform';
import { loadConfigOrExit } from '@testkase/platform/config';

import { GatewayConfig } from './config/webhook-gateway.config';
import { createGatewayDataSource } from './persistence/data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit(GatewayConfig, 'webhook-gateway');
  const logger = createLogger({ service: 'webhook-gateway', level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const applied = await runMigrations(createGatewayDataSource(config));
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
}

main().catch((error: unknown) => {
  process.stderr.write(`webhook-gateway: migration failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
