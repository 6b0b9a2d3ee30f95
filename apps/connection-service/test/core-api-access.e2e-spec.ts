import 'reflect-metadata';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  CoreGrpcClient,
  freePort,
  selfSignedCertificate,
  TEST_CORE_API_TOKEN,
  TestStack,
} from '@testkase/testing';

/**
 * Issue 11, config hardening: CORE_API_TOKEN is a list (rotation without downtime), accepted over
 * HTTP and gRPC; gRPC serves TLS from GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE; API_DOCS=false hides
 * /docs.
 */
describe('connection-service: core API tokens and gRPC over TLS', () => {
  const nextToken = 'next-core-token-7Qm2';
  let stack: TestStack;
  let tlsDir: string;
  let ca: Buffer;
  let grpcPort: number;
  const clients: CoreGrpcClient[] = [];

  beforeAll(async () => {
    tlsDir = mkdtempSync(path.join(tmpdir(), 'tk-grpc-tls-'));
    const { cert, key } = selfSignedCertificate();
    writeFileSync(path.join(tlsDir, 'tls.crt'), cert);
    writeFileSync(path.join(tlsDir, 'tls.key'), key, { mode: 0o600 });
    ca = Buffer.from(cert);
    grpcPort = await freePort();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_access',
      env: {
        'connection-service': {
          // The stack's own token stays valid while the next one is rolled out.
          CORE_API_TOKEN: `${nextToken},${TEST_CORE_API_TOKEN}`,
          GRPC_PORT: String(grpcPort),
          GRPC_TLS_CERT_FILE: path.join(tlsDir, 'tls.crt'),
          GRPC_TLS_KEY_FILE: path.join(tlsDir, 'tls.key'),
          API_DOCS: 'false',
        },
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  }, 60_000);

  const http = (token: string) =>
    fetch(`${stack.url('connection-service')}/v1/projects/p-access/connection`, {
      headers: { authorization: `Bearer ${token}` },
    });
  const grpc = (tls: boolean) => {
    const client = new CoreGrpcClient(
      'connection',
      `localhost:${grpcPort}`,
      stack.coreToken,
      tls ? { ca } : undefined,
    );
    clients.push(client);
    return client;
  };

  it('accepts every token of the list over HTTP, and no other', async () => {
    expect((await http(stack.coreToken)).status).toBe(404); // NOT_CONNECTED: authenticated
    expect((await http(nextToken)).status).toBe(404);
    expect((await http('next-core-token-7Qm')).status).toBe(401);
    expect((await http(`${nextToken},${stack.coreToken}`)).status).toBe(401);
  });

  it('accepts every token of the list over gRPC with TLS, and no other', async () => {
    const client = grpc(true);
    for (const token of [stack.coreToken, nextToken]) {
      const { error } = await client.call('GetConnection', { projectId: 'p-access' }, token);
      expect(error?.code).toBe(5); // NOT_FOUND: authenticated
    }
    const { error } = await client.call('GetConnection', { projectId: 'p-access' }, 'wrong-token');
    expect(error?.code).toBe(16); // UNAUTHENTICATED
  });

  it('serves gRPC only over TLS once it is configured', async () => {
    const { error } = await grpc(false).call('GetConnection', { projectId: 'p-access' });
    expect(error?.code).toBe(14); // UNAVAILABLE: the plaintext handshake fails
  });

  it('serves no /docs when API_DOCS=false', async () => {
    for (const route of ['/docs', '/docs/json']) {
      expect((await fetch(`${stack.url('connection-service')}${route}`)).status).toBe(404);
    }
  });

  it('never logs a token', () => {
    const logs = stack.allLogs();
    expect(logs).toContain('"tls":true');
    expect(logs).not.toContain(nextToken);
    expect(logs).not.toContain(stack.coreToken);
  });
});
