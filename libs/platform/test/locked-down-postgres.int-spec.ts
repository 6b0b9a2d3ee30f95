import { Client } from 'pg';

import { createDataSource, ensureDatabase, MessagingTablesMigrationV1, runMigrations } from '../src';
import { BASE_DATABASE_URL, freshDatabase, uniqueName } from './helpers';

const SCHEMA = 'locked_test';

class CreateMessagingTables1700000000000 extends MessagingTablesMigrationV1 {
  readonly name = 'CreateMessagingTables1700000000000';
  constructor() {
    super(SCHEMA);
  }
}

/**
 * A managed or locked-down Postgres (docs/RUNBOOK.md, "Install"): the service role may connect to
 * its own, pre-created database only. The migrate entry points must not need `postgres` then.
 */
describe('migrations against a locked-down Postgres', () => {
  const role = uniqueName('tk_locked_');
  let database: { url: string; drop: () => Promise<void> };
  let roleUrl: string;

  const admin = async <T>(use: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: BASE_DATABASE_URL });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await freshDatabase();
    const name = new URL(database.url).pathname.slice(1);
    await admin(async (client) => {
      await client.query(`CREATE ROLE "${role}" LOGIN`);
      await client.query(`ALTER DATABASE "${name}" OWNER TO "${role}"`);
      await client.query(`REVOKE CONNECT ON DATABASE "${name}" FROM PUBLIC`);
      await client.query(`GRANT CONNECT ON DATABASE "${name}" TO "${role}"`);
      // Only this role cannot connect to `postgres` (a REVOKE … FROM PUBLIC on `postgres` would lock
      // out every other test on the shared server): a connection-time setting that fails it.
      await client.query(
        `ALTER ROLE "${role}" IN DATABASE postgres SET session_preload_libraries = 'tk_no_such_library'`,
      );
    });
    const url = new URL(database.url);
    url.username = role;
    roleUrl = url.toString();
  });

  afterAll(async () => {
    await database.drop();
    await admin((client) => client.query(`DROP ROLE IF EXISTS "${role}"`));
  });

  it('the role really cannot connect to postgres', async () => {
    const url = new URL(BASE_DATABASE_URL);
    url.username = role;
    const client = new Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/tk_no_such_library/);
    await client.end().catch(() => undefined);
  });

  it('ensures the existing database and applies the migrations without touching postgres', async () => {
    await expect(ensureDatabase(roleUrl)).resolves.toBeUndefined();
    const dataSource = createDataSource({
      url: roleUrl,
      schema: SCHEMA,
      entities: [],
      migrations: [CreateMessagingTables1700000000000],
      applicationName: 'locked-test',
    });
    expect(await runMigrations(dataSource)).toEqual(['CreateMessagingTables1700000000000']);
    expect(await runMigrations(dataSource)).toEqual([]);
  });

  it('still creates a missing database (falls back to postgres only then)', async () => {
    const missing = new URL(BASE_DATABASE_URL);
    missing.pathname = `/${uniqueName('tk_platform_')}`;
    try {
      await ensureDatabase(missing.toString());
      const probe = new Client({ connectionString: missing.toString() });
      await probe.connect();
      await probe.end();
    } finally {
      await admin((client) =>
        client.query(`DROP DATABASE IF EXISTS "${missing.pathname.slice(1)}" WITH (FORCE)`),
      );
    }
  });

  it('reports a real connection failure instead of hiding it behind the fallback', async () => {
    const url = new URL(database.url);
    url.username = uniqueName('tk_nobody_');
    await expect(ensureDatabase(url.toString())).rejects.toThrow(/role .* does not exist/);
  });
});
