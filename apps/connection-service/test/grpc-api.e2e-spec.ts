import 'reflect-metadata';

import { CoreGrpcClient, freePort, TestStack, type GrpcAnswer } from '@testkase/testing';

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

  const call = (method: Method, request: Record<string, unknown>, token = stack.coreToken) =>
    client.call(method, request, token);
  const errorCode = (error: GrpcAnswer['error']) => error?.metadata.get('error-code')[0];

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    const grpcPort = await freePort();
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
    expect(connected.reply).toMatchObject({
      projectId: 'g1',
      status: 'active',
      mode: 'webhook_managed',
      gitlabProject: { path: 'grpc/app' },
      role: { name: 'Maintainer', accessLevel: 40 },
      hook: {
        state: 'executable',
        events: ['issues_events', 'confidential_issues_events', 'note_events', 'confidential_note_events'],
        refusedDeliveries: 0,
        secretRenewedAt: expect.any(String),
      },
    });
    expect(JSON.stringify(connected.reply)).not.toContain(maintainer.token);
    const read = await call('GetConnection', { projectId: 'g1' });
    expect(read.reply?.['connectionId']).toBe(connected.reply?.['connectionId']);
    expect((await call('Resync', { projectId: 'g1' })).reply).toEqual({ accepted: true });
    const gone = await call('Disconnect', { projectId: 'g1' });
    expect(gone.reply).toMatchObject({ status: 'disconnected', hook: { removal: { outcome: 'removed' } } });
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
      mode: 'webhook_manual',
      webhookSetup: { enableSslVerification: true },
    });
    expect(String((connected.reply?.['webhookSetup'] as { secret: string }).secret)).toMatch(
      /^[A-Za-z0-9_-]{43}$/,
    );
    const rotated = await call('RotateToken', { projectId: 'g2', token: maintainer.token });
    expect(rotated.reply).toMatchObject({ token: { username: 'grpc-bot' } });
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
