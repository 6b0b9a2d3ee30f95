import 'reflect-metadata';

import { createHash, randomUUID } from 'node:crypto';

import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';
import { sleep } from '@testkase/util';

import { fixture, gatewayEnv, GatewayHarness } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');

describe('webhook-gateway verifiers: lookups under a spray of random ids, rotation grace', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;

  beforeAll(async () => {
    environment = await createTestEnvironment('gateway-lookups');
    gateway = await GatewayHarness.start(
      gatewayEnv(environment, { WEBHOOK_VERIFIER_LOOKUP_TIMEOUT: '1500ms' }),
    );
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
  });

  it('admits a new connection’s first delivery while unknown ids hold every lookup slot', async () => {
    // connection-service answers slowly, so each random id holds a lookup slot for 700 ms.
    gateway.answerLookups(700);
    let spraying = true;
    const sprayed: number[] = [];
    const sprayers = Array.from({ length: 64 }, async () => {
      while (spraying) {
        sprayed.push((await gateway.deliver({ connectionId: randomUUID(), secret: 'guess' }, '{}')).status);
      }
    });
    try {
      await sleep(300);
      const connection = {
        connectionId: randomUUID(),
        secret: `secret-${randomUUID()}`,
        state: 'active' as const,
        inBucket: true,
      };
      // The delivery races the bucket's watch: it arrives before the gateway has the new entry.
      const answer = gateway.deliver(connection, ISSUE);
      await sleep(100);
      await gateway.putVerifier(connection);

      expect((await answer).status).toBe(202);
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
    } finally {
      spraying = false;
      await Promise.all(sprayers);
      gateway.answerLookups();
    }
    expect(sprayed.length).toBeGreaterThanOrEqual(64);
    expect(new Set(sprayed)).toEqual(new Set([401]));
  }, 30_000);

  it('accepts the previous secret of a rotation until previousUntil, then only the new one', async () => {
    const sha = (secret: string) => createHash('sha256').update(secret).digest('hex');
    const connectionId = randomUUID();
    const [oldSecret, newSecret] = [`old-${randomUUID()}`, `new-${randomUUID()}`];
    const put = async (previousUntil: Date) =>
      (await gateway.kv()).put(
        connectionId,
        JSON.stringify({
          connectionId,
          projectId: 'project-1',
          state: 'active',
          secretSha256: sha(newSecret),
          previousSecretSha256: sha(oldSecret),
          previousUntil: previousUntil.toISOString(),
          signed: false,
          updatedAt: new Date().toISOString(),
        }),
      );
    await put(new Date(Date.now() + 60_000));
    // GitLab may still send the old secret while connection-service is telling it the new one.
    await eventually(async () =>
      expect((await gateway.deliver({ connectionId, secret: oldSecret }, ISSUE)).status).toBe(202),
    );
    expect((await gateway.deliver({ connectionId, secret: newSecret }, ISSUE)).status).toBe(202);

    await put(new Date(Date.now() - 1));
    await eventually(async () =>
      expect((await gateway.deliver({ connectionId, secret: oldSecret }, ISSUE)).status).toBe(401),
    );
    expect((await gateway.deliver({ connectionId, secret: newSecret }, ISSUE)).status).toBe(202);
    expect((await gateway.deliver({ connectionId, secret: 'neither' }, ISSUE)).status).toBe(401);
  }, 30_000);
});
