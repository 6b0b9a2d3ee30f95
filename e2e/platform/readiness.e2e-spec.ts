import {
  CoreGrpcClient,
  eventually,
  freePort,
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
describe('/health/ready and grpc.health.v1 follow the database and NATS', () => {
  let postgres: PrivatePostgres;
  let nats: PrivateNats;
  let app: RunningApp;
  let grpc: CoreGrpcClient;

  const readyStatus = async () => (await fetch(`${app.url}/health/ready`)).status;
  /** grpc.health.v1 Check without any token, as Kubernetes' gRPC probe sends it. */
  const grpcStatus = async () => (await grpc.health()).status;

  beforeAll(async () => {
    [postgres, nats] = await Promise.all([PrivatePostgres.start(), PrivateNats.start()]);
    const env = {
      DATABASE_URL: postgres.url('testkase_gitlab'),
      NATS_URL: nats.url,
      CORE_API_TOKEN: TEST_CORE_API_TOKEN,
      HOST: '127.0.0.1',
      GRPC_PORT: String(await freePort()),
    };
    await migrateApp('defect-sync', env);
    app = await startApp('defect-sync', { env });
    grpc = new CoreGrpcClient('defects', `127.0.0.1:${env.GRPC_PORT}`, 'no-token-needed');
  }, 60_000);

  afterAll(async () => {
    grpc?.close();
    await app?.stop();
    await Promise.all([postgres?.dispose(), nats?.dispose()]);
  });

  it('is 200 with both up, and gRPC SERVING', async () => {
    expect(await readyStatus()).toBe(200);
    expect(await grpcStatus()).toBe('SERVING');
    expect((await grpc.health('testkase.gitlab.defects.v1.DefectService')).status).toBe('SERVING');
  });

  it('turns 503 when Postgres stops and 200 again when it returns', async () => {
    await postgres.pause();
    await eventually(async () => expect(await readyStatus()).toBe(503));
    await eventually(async () => expect(await grpcStatus()).toBe('NOT_SERVING'));
    const body = (await (await fetch(`${app.url}/health/ready`)).json()) as { database?: { status: string } };
    expect(JSON.stringify(body)).toMatch(/database/);
    expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
    await postgres.resume();
    await eventually(async () => expect(await readyStatus()).toBe(200), { timeoutMs: 20_000 });
    await eventually(async () => expect(await grpcStatus()).toBe('SERVING'), { timeoutMs: 20_000 });
  });

  it('turns 503 when NATS stops and 200 again when it returns', async () => {
    await nats.pause();
    await eventually(async () => expect(await readyStatus()).toBe(503));
    await eventually(async () => expect(await grpcStatus()).toBe('NOT_SERVING'));
    await nats.resume();
    await eventually(async () => expect(await readyStatus()).toBe(200), { timeoutMs: 20_000 });
  });
});
