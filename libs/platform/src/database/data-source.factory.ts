import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';

export interface DatabaseSettings {
  url: string;
  /** The app's own schema; everything it creates lives there, including its migrations table. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  entities: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return name;
}

/**
 * One TypeORM DataSource per app, bound to the app's schema: `synchronize` off, migrations in a
 * `migrations` table inside that schema, never run implicitly.
 */
export function createDataSource(settings: DatabaseSettings): DataSource {
  const options: DataSourceOptions = {
    type: 'postgres',
    url: settings.url,
    schema: assertIdentifier(settings.schema),
    entities: settings.entities,
    migrations: settings.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: settings.applicationName,
    extra: {
      max: settings.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // A lost server must not leave a request hanging for minutes.
      query_timeout: 30_000,
    },
  };
  return new DataSource(options);
}

/**
 * Creates the database of `url` when it does not exist (local start and tests; a cluster pre-creates
 * it). Connects to `postgres` only when the target database is missing.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  // First the target itself: a locked-down or managed Postgres lets the service role connect only to
  // its own database (docs/RUNBOOK.md, "Install"), so `postgres` is used only to create a missing one.
  const probe = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    return;
  } catch (error) {
    // 3D000 invalid_catalog_name: the database does not exist (anything else is a real failure).
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client
        .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
        .catch((error: { code?: string }) => {
          // Another process created it between our check and our CREATE.
          if (error.code !== '42P04' && error.code !== '23505') throw error;
        });
    }
  } finally {
    await client.end();
  }
}

/** Drops a database (tests only: every test file gets a fresh one). */
export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Creates the schema if missing, then applies pending migrations, each in its own transaction. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const schema = assertIdentifier(String((dataSource.options as { schema?: string }).schema ?? 'public'));
  const initialized = dataSource.isInitialized;
  if (!initialized) await dataSource.initialize();
  // Two migration jobs (a Helm hook retried, two developers) must not interleave.
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock
      .query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`])
      .catch(() => undefined);
    await lock.release();
    if (!initialized) await dataSource.destroy();
  }
}
