import 'reflect-metadata';

import {
  CoreGrpcClient,
  freePort,
  isoOf,
  reflectionList,
  TestStack,
  type GrpcAnswer,
} from '@testkase/testing';

import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';
import { HookReceiver } from './helpers/hook-receiver';

type Method = 'Connect' | 'GetConnection' | 'Disconnect' | 'RotateToken' | 'Resync';

/** The same operations over gRPC (libs/contracts/proto/connection.proto), as TestKase core may call them. */
describe('connection-service: the gRPC API', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  let client: CoreGrpcClient;
  let maintainer: SeededUser;
  let reporter: SeededUser;
  let grpcPort: number;

  const call = (method: Method, request: Record<string, unknown>, token = stack.coreToken) =>
    client.call(method, request, token);
  const errorCode = (error: GrpcAnswer['error']) => error?.metadata.get('error-code')[0];

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    grpcPort = await freePort();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_grpc',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url, GRPC_PORT: String(grpcPort) } },
    });
    kit = await ConnectionTestKit.open(stack);
    client = new CoreGrpcClient('connection', `127.0.0.1:${grpcPort}`, stack.coreToken);
    await kit.sim.createProject({ path: 'grpc/app' });
    maintainer = await gitlabUser(kit.sim, 'grpc-bot', {
      project: 'grpc/app',
      accessLevel: SIM_ACCESS.maintainer,
    });
    reporter = await gitlabUser(kit.sim, 'grpc-reporter', {
      project: 'grpc/app',
      accessLevel: SIM_ACCESS.reporter,
    });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  it('requires the core token in the metadata', async () => {
    const { error } = await call('GetConnection', { projectId: 'g1' }, 'wrong');
    expect(error?.code).toBe(16); // UNAUTHENTICATED
    expect(errorCode(error)).toBe('UNAUTHENTICATED');
  });

  it('connects, reads and disconnects like the HTTP API, never returning the token', async () => {
    const connected = await call('Connect', {
      projectId: 'g1',
      platform: 'gitlab',
      instanceUrl: kit.simUrl,
      projectRef: 'grpc/app',
      token: maintainer.token,
    });
    expect(connected.error).toBeUndefined();
    // Each RPC has its own response message; statuses and modes are enums, times Timestamps.
    expect(connected.reply).toMatchObject({ connection: expect.any(Object) });
    const connection = connected.reply?.['connection'] as Record<string, unknown>;
    expect(connection).toMatchObject({
      projectId: 'g1',
      status: 'CONNECTION_STATUS_ACTIVE',
      mode: 'CONNECTION_MODE_WEBHOOK_MANAGED',
      gitlabProject: { path: 'grpc/app' },
      role: { name: 'Maintainer', accessLevel: 40 },
      hook: {
        state: 'executable',
        events: ['issues_events', 'confidential_issues_events', 'note_events', 'confidential_note_events'],
        refusedDeliveries: 0,
        secretRenewedAt: { seconds: expect.any(Number) },
      },
    });
    const overHttp = (await (
      await fetch(`${stack.url('connection-service')}/v1/projects/g1/connection`, {
        headers: { authorization: `Bearer ${stack.coreToken}` },
      })
    ).json()) as { connectedAt: string; updatedAt: string };
    expect(isoOf(connection['connectedAt'])).toBe(overHttp.connectedAt);
    expect(isoOf(connection['updatedAt'])).toBe(overHttp.updatedAt);
    expect(JSON.stringify(connected.reply)).not.toContain(maintainer.token);
    const read = await call('GetConnection', { projectId: 'g1' });
    expect((read.reply?.['connection'] as Record<string, unknown>)['connectionId']).toBe(
      connection['connectionId'],
    );
    expect((await call('Resync', { projectId: 'g1' })).reply).toEqual({ accepted: true });
    const gone = await call('Disconnect', { projectId: 'g1' });
    expect(gone.reply).toMatchObject({
      connection: { status: 'CONNECTION_STATUS_DISCONNECTED', hook: { removal: { outcome: 'removed' } } },
    });
  });

  it('answers a manual connection with the webhook setup, and rotates its token', async () => {
    const connected = await call('Connect', {
      projectId: 'g2',
      platform: 'gitlab',
      instanceUrl: kit.simUrl,
      projectRef: 'grpc/app',
      token: reporter.token,
    });
    expect(connected.reply).toMatchObject({
      connection: { mode: 'CONNECTION_MODE_WEBHOOK_MANUAL', webhookSetup: { enableSslVerification: true } },
    });
    const connection = connected.reply?.['connection'] as { webhookSetup: { secret: string } };
    expect(String(connection.webhookSetup.secret)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rotated = await call('RotateToken', { projectId: 'g2', token: maintainer.token });
    expect(rotated.reply).toMatchObject({ connection: { token: { username: 'grpc-bot' } } });
  });

  it('serves grpc.health.v1 without the core token: SERVING once ready, for the server and the service', async () => {
    expect(await client.health()).toEqual({ status: 'SERVING' });
    expect(await client.health('testkase.gitlab.connection.v1.ConnectionService')).toEqual({
      status: 'SERVING',
    });
    expect((await client.health('testkase.gitlab.other.v1.Nothing')).error?.code).toBe(5); // NOT_FOUND
  });

  it('serves no reflection unless GRPC_REFLECTION=true', async () => {
    const { error } = await reflectionList(`127.0.0.1:${grpcPort}`);
    expect(error?.code).toBe(12); // UNIMPLEMENTED
  });

  it('maps errors to gRPC status codes with the stable code in the error-code trailer', async () => {
    const invalid = await call('GetConnection', { projectId: 'a/b' });
    expect([invalid.error?.code, errorCode(invalid.error)]).toEqual([3, 'VALIDATION_FAILED']);
    const missing = await call('Resync', { projectId: 'nobody' });
    expect([missing.error?.code, errorCode(missing.error)]).toEqual([5, 'NOT_CONNECTED']);
    const badToken = await call('Connect', {
      projectId: 'g3',
      platform: 'gitlab',
      instanceUrl: kit.simUrl,
      projectRef: 'grpc/app',
      token: 'glpat-nope-nope-nope-nope',
    });
    expect([badToken.error?.code, errorCode(badToken.error)]).toEqual([9, 'AUTH_FAILED']);
    const elsewhere = await call('Connect', {
      projectId: 'g2',
      platform: 'gitlab',
      instanceUrl: kit.simUrl,
      projectRef: '999999',
      token: maintainer.token,
    });
    expect(errorCode(elsewhere.error)).toBe('PROJECT_NOT_FOUND');
    expect(stack.allLogs()).not.toContain(maintainer.token);
  });
});
