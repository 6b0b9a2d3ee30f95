import {
  eventually,
  migrateApp,
  PrivateNats,
  PrivatePostgres,
  startApp,
  TEST_CORE_API_TOKEN,
  type RunningApp,
} from '@testkase/testing';

/**
 * Stops the database and NATS under a running service. Both servers are the test's own, so the
 * other test files (which share the machine's servers) are not disturbed.
 */
describe('/health/ready follows the database and NATS', () => {
  let postgres: PrivatePostgres;
  let nats: PrivateNats;
  let app: RunningApp;

  const readyStatus = async () => (await fetch(`${app.url}/health/ready`)).status;

  beforeAll(async () => {
    [postgres, nats] = await Promise.all([PrivatePostgres.start(), PrivateNats.start()]);
    const env = {
      DATABASE_URL: postgres.url('testkase_gitlab'),
      NATS_URL: nats.url,
      CORE_API_TOKEN: TEST_CORE_API_TOKEN,
      HOST: '127.0.0.1',
    };
    await migrateApp('defect-sync', env);
    app = await startApp('defect-sync', { env });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await Promise.all([postgres?.dispose(), nats?.dispose()]);
  });

  it('is 200 with both up', async () => {
    expect(await readyStatus()).toBe(200);
  });

  it('turns 503 when Postgres stops and 200 again when it returns', async () => {
    await postgres.pause();
    await eventually(async () => expect(await readyStatus()).toBe(503));
    const body = (await (await fetch(`${app.url}/health/ready`)).json()) as { database?: { status: string } };
    expect(JSON.stringify(body)).toMatch(/database/);
    expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
    await postgres.resume();
    await eventually(async () => expect(await readyStatus()).toBe(200), { timeoutMs: 20_000 });
  });

  it('turns 503 when NATS stops and 200 again when it returns', async () => {
    await nats.pause();
    await eventually(async () => expect(await readyStatus()).toBe(503));
    await nats.resume();
    await eventually(async () => expect(await readyStatus()).toBe(200), { timeoutMs: 20_000 });
  });
});
