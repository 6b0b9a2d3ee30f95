import { randomBytes } from 'node:crypto';

import { JSONCodec, type Subscription } from 'nats';

import { RPC, type CredentialsReply } from '@testkase/contracts';
import { createLogger, NatsClient } from '@testkase/platform';

import { CredentialsProvider } from './credentials.provider';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const codec = JSONCodec<unknown>();

describe('CredentialsProvider against the real NATS', () => {
  const logger = createLogger({ service: 'consumer-kit-test', level: 'silent' });
  let nats: NatsClient;
  let responder: Subscription;
  const asked: string[] = [];

  beforeAll(async () => {
    nats = new NatsClient(
      { servers: NATS_URL, name: 'credentials-test', prefix: `t${randomBytes(6).toString('hex')}` },
      logger,
    );
    await nats.ready();
    // connection-service's side of rpc.connection.credentials, answering for any id.
    responder = nats.nc.subscribe(nats.naming.subject(RPC.connectionCredentials), {
      callback: (_error, message) => {
        const { connectionId } = codec.decode(message.data) as { connectionId: string };
        asked.push(connectionId);
        const reply: CredentialsReply = {
          ok: true,
          credentials: {
            connectionId,
            projectId: `project-${connectionId}`,
            instanceUrl: 'https://gitlab.example.com',
            gitlabProjectId: 1,
            projectWebUrl: 'https://gitlab.example.com/group/project',
            token: `glpat-${connectionId}`,
            tokenUserId: 7,
            caCertificate: connectionId === 'with-ca' ? 'C'.repeat(4_000) : null,
          },
        };
        message.respond(codec.encode(reply));
      },
    });
  });

  afterAll(async () => {
    responder.unsubscribe();
    await nats.close();
  });

  beforeEach(() => asked.splice(0));

  it('keeps the credentials of at most maxEntries connections, the least recently used going first', async () => {
    const provider = new CredentialsProvider(nats, {
      ttlMs: 60_000,
      timeoutMs: 2_000,
      bounds: { maxEntries: 2, maxBytes: 1024 * 1024 },
    });
    await provider.get('a');
    await provider.get('b');
    await provider.get('a'); // cached; a is now the most recent
    await provider.get('c'); // b goes
    expect(provider.cachedCount).toBe(2);
    expect((await provider.get('a')).token).toBe('glpat-a');
    expect((await provider.get('b')).token).toBe('glpat-b');
    expect(asked).toEqual(['a', 'b', 'c', 'b']);
  });

  it('keeps at most maxBytes of credentials: a large CA certificate pushes others out', async () => {
    const provider = new CredentialsProvider(nats, {
      ttlMs: 60_000,
      timeoutMs: 2_000,
      bounds: { maxEntries: 100, maxBytes: 9_000 },
    });
    await provider.get('a');
    await provider.get('b');
    await provider.get('with-ca'); // about 8.6 kB with its certificate
    expect(provider.cachedCount).toBe(1);
    expect((await provider.get('with-ca')).caCertificate).toHaveLength(4_000);
    await provider.get('a');
    expect(asked).toEqual(['a', 'b', 'with-ca', 'a']);
  });
});
