import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');
/** A documentation address (RFC 5737): only ever a header value here, never a destination. */
const FORWARDED_CLIENT = '203.0.113.7';

/** The `client` the gateway logged for refused deliveries of `connectionId`. */
function loggedClients(gateway: GatewayHarness, connectionId: string): string[] {
  return gateway.app
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; connectionId?: string; client?: string };
        return entry.msg === 'webhook delivery unauthorized' && entry.connectionId === connectionId
          ? [entry.client ?? '']
          : [];
      } catch {
        return [];
      }
    });
}

describe('webhook-gateway behind a proxy (TRUST_PROXY)', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;

  beforeAll(async () => {
    environment = await createTestEnvironment('gateway-proxy');
    gateway = await GatewayHarness.start(gatewayEnv(environment, { LOG_LEVEL: 'debug' }));
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
  });

  it('by default ignores X-Forwarded-For: the client is the TCP peer, whatever a sender claims', async () => {
    const connectionId = randomUUID();
    const answer = await gateway.deliver({ connectionId, secret: 'wrong' }, ISSUE, {
      'x-forwarded-for': FORWARDED_CLIENT,
    });
    expect(answer.status).toBe(401);
    await eventually(async () => expect(loggedClients(gateway, connectionId)).toEqual(['127.0.0.1']));
  });

  it('with TRUST_PROXY naming the proxy, logs the client the proxy forwarded, and only from it', async () => {
    await gateway.restart({ TRUST_PROXY: '127.0.0.1' });
    const connectionId = randomUUID();
    expect(
      (
        await gateway.deliver({ connectionId, secret: 'wrong' }, ISSUE, {
          'x-forwarded-for': FORWARDED_CLIENT,
        })
      ).status,
    ).toBe(401);
    await eventually(async () => expect(loggedClients(gateway, connectionId)).toEqual([FORWARDED_CLIENT]));

    await gateway.restart({ TRUST_PROXY: '10.0.0.1' });
    const other = randomUUID();
    await gateway.deliver({ connectionId: other, secret: 'wrong' }, ISSUE, {
      'x-forwarded-for': FORWARDED_CLIENT,
    });
    await eventually(async () => expect(loggedClients(gateway, other)).toEqual(['127.0.0.1']));
  });
});
