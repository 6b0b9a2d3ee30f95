import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { GRPC_SERVICES } from '@testkase/contracts';
import { GrpcHealth, PROTO_LOADER_OPTIONS, type ReadinessCheck } from '@testkase/platform';

import { CoreGrpcClient, reflectionList } from './core-grpc-client';

const SERVICE = 'testkase.gitlab.connection.v1.ConnectionService';

/** A real gRPC server on loopback with the health service (and reflection) only. */
async function serve(health: GrpcHealth, reflection: boolean) {
  const server = new Server();
  const definition = loadSync(GRPC_SERVICES.connection.protoPath, PROTO_LOADER_OPTIONS);
  health.addToServer(server, reflection ? definition : undefined);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const client = new CoreGrpcClient('connection', `127.0.0.1:${port}`, 'unused');
  return {
    address: `127.0.0.1:${port}`,
    client,
    close: () => {
      client.close();
      server.forceShutdown();
    },
  };
}

/** libs/platform/src/grpc/grpc-health.ts on a real server (here: platform's specs may not use the test client). */
describe('GrpcHealth', () => {
  it('follows the readiness checks: NOT_SERVING while one is down, SERVING once all pass, NOT_SERVING after stop', async () => {
    let databaseUp = false;
    const checks: ReadinessCheck[] = [
      { name: 'database', probe: async () => ({ up: databaseUp }) },
      { name: 'nats', probe: async () => ({ up: true }) },
    ];
    const health = new GrpcHealth([SERVICE], () => checks);
    const { client, close } = await serve(health, false);
    try {
      expect(await client.health()).toEqual({ status: 'NOT_SERVING' });
      databaseUp = true;
      expect(await client.health()).toEqual({ status: 'SERVING' });
      expect(await client.health(SERVICE)).toEqual({ status: 'SERVING' });
      checks.push({ name: 'broken', probe: () => Promise.reject(new Error('boom')) });
      expect(await client.health(SERVICE)).toEqual({ status: 'NOT_SERVING' });
      checks.pop();
      expect(await client.health()).toEqual({ status: 'SERVING' });
      health.stop();
      expect(await client.health()).toEqual({ status: 'NOT_SERVING' });
      expect(await client.health(SERVICE)).toEqual({ status: 'NOT_SERVING' });
      expect((await client.health('unknown.Service')).error?.code).toBe(5); // NOT_FOUND
    } finally {
      close();
    }
  });

  it('adds reflection only when asked, listing the services and grpc.health.v1', async () => {
    const on = await serve(new GrpcHealth([SERVICE], () => []), true);
    const off = await serve(new GrpcHealth([SERVICE], () => []), false);
    try {
      expect((await reflectionList(on.address)).services).toEqual(
        expect.arrayContaining([SERVICE, 'grpc.health.v1.Health']),
      );
      expect((await reflectionList(off.address)).error?.code).toBe(12); // UNIMPLEMENTED
    } finally {
      on.close();
      off.close();
    }
  });
});
