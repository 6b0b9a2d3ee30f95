import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { Client } from 'pg';

import {
  createdTestEnvironments,
  createTestEnvironment,
  leftoversOfRun,
  listTestStreams,
  newRunId,
  newTestResourceId,
  removeLeftovers,
  staleLeftovers,
  TEST_NATS_URL,
  TEST_POSTGRES_URL,
  TEST_RUN_ID,
  TestStack,
} from '../src';

/**
 * Tests leave nothing behind (issue 11): a TestStack removes every stream, KV bucket and database of
 * its environment when it stops, and when its start fails halfway; the sweep finds what a crashed
 * run left. Starts the apps from dist (`npm run build`).
 */
describe('test environments leave nothing behind', () => {
  const servers = { natsUrl: TEST_NATS_URL, postgresUrl: TEST_POSTGRES_URL };
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let pg: Client;

  beforeAll(async () => {
    nc = await connect({ servers: TEST_NATS_URL, name: 'cleanup-test' });
    jsm = await nc.jetstreamManager();
    pg = new Client({ connectionString: TEST_POSTGRES_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await nc?.close();
    await pg?.end();
  });

  const streamsOf = async (prefix: string) =>
    (await listTestStreams(TEST_NATS_URL)).filter((stream) => stream.prefix === prefix).map((s) => s.name);
  const databaseExists = async (url: string) =>
    (await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [new URL(url).pathname.slice(1)]))
      .rowCount === 1;

  it('names its prefix and database after the test run', async () => {
    const environment = await createTestEnvironment('cleanup_names');
    try {
      expect(environment.natsPrefix).toMatch(new RegExp(`^t${TEST_RUN_ID}[0-9a-f]{6}$`));
      expect(new URL(environment.databaseUrl).pathname).toMatch(
        new RegExp(`^/tk_cleanup_names_${TEST_RUN_ID}[0-9a-f]{6}$`),
      );
    } finally {
      await environment.dispose();
    }
    expect(await databaseExists(environment.databaseUrl)).toBe(false);
  });

  it('stop() removes the streams, the KV bucket and the database of the stack', async () => {
    const stack = await TestStack.start({
      label: 'cleanup_stop',
      apps: ['webhook-gateway', 'connection-service'],
    });
    const { natsPrefix, databaseUrl } = stack.environment;
    const created = await streamsOf(natsPrefix);
    expect(created).toEqual(
      expect.arrayContaining([
        `${natsPrefix}_GITLAB_EVENTS`,
        `${natsPrefix}_INTEGRATION`,
        `KV_${natsPrefix}_WEBHOOK_VERIFIERS`,
      ]),
    );
    expect(await databaseExists(databaseUrl)).toBe(true);

    await stack.stop();

    expect(await streamsOf(natsPrefix)).toEqual([]);
    expect(await databaseExists(databaseUrl)).toBe(false);
  }, 90_000);

  it('a start that fails halfway removes what the apps started so far created', async () => {
    const before = createdTestEnvironments().length;
    await expect(
      TestStack.start({
        label: 'cleanup_fail',
        apps: ['webhook-gateway', 'connection-service', 'requirement-sync'],
        // requirement-sync refuses this at start-up, after the gateway and connection-service ran.
        env: { 'requirement-sync': { POLL_INTERVAL_NO_HOOK: 'never' } },
      }),
    ).rejects.toThrow(/requirement-sync|POLL_INTERVAL_NO_HOOK/);
    const environment = createdTestEnvironments()[before];
    expect(environment).toBeDefined();
    expect(await streamsOf(environment!.natsPrefix)).toEqual([]);
    expect(await databaseExists(environment!.databaseUrl)).toBe(false);
  }, 90_000);

  describe('what a crashed run left', () => {
    const hours = (n: number) => n * 60 * 60 * 1000;
    const addStream = async (prefix: string) => {
      const name = `${prefix}_GITLAB_EVENTS`;
      await jsm.streams.add({ name, subjects: [`${prefix}.gitlab.events.>`] });
      return name;
    };
    const crashedRun = newRunId(Date.now() - hours(3));
    const crashedPrefix = `t${newTestResourceId(crashedRun)}`;
    const crashedDatabase = `tk_cleanup_crash_${newTestResourceId(crashedRun)}`;
    const livePrefix = `t${newTestResourceId()}`;

    afterAll(async () => {
      for (const prefix of [crashedPrefix, livePrefix])
        await jsm?.streams.delete(`${prefix}_GITLAB_EVENTS`).catch(() => undefined);
      await pg?.query(`DROP DATABASE IF EXISTS "${crashedDatabase}" WITH (FORCE)`);
    });

    it('the run check finds and removes the streams and databases of one run', async () => {
      const stream = await addStream(crashedPrefix);
      await pg.query(`CREATE DATABASE "${crashedDatabase}"`);

      const leftovers = await leftoversOfRun(crashedRun, servers);
      expect(leftovers.streams.map((s) => s.name)).toEqual([stream]);
      expect(leftovers.databases.map((d) => d.name)).toEqual([crashedDatabase]);

      await removeLeftovers(leftovers, servers);
      expect(await streamsOf(crashedPrefix)).toEqual([]);
      expect((await leftoversOfRun(crashedRun, servers)).databases).toEqual([]);
    });

    it('the sweep takes only old resources of other runs, never those of the current run', async () => {
      const other = await addStream(crashedPrefix);
      const mine = await addStream(livePrefix);

      const now = await staleLeftovers({ ...servers, minAgeMs: hours(2), currentRunId: TEST_RUN_ID });
      expect(now.streams.map((s) => s.name)).not.toContain(other);
      expect(now.streams.map((s) => s.name)).not.toContain(mine);

      const later = await staleLeftovers({
        ...servers,
        minAgeMs: hours(2),
        currentRunId: TEST_RUN_ID,
        now: Date.now() + hours(3),
      });
      expect(later.streams.map((s) => s.name)).toContain(other);
      expect(later.streams.map((s) => s.name)).not.toContain(mine);
    });
  });
});
