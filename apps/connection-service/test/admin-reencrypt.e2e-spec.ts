import { randomBytes } from 'node:crypto';

import { TEST_CORE_API_TOKEN, TEST_TOKEN_ENCRYPTION_KEYS, TestStack } from '@testkase/testing';

import { parseKeyRing } from '../src/crypto/key-ring';
import { TokenCipher } from '../src/crypto/token-cipher';
import { rotationContext } from '../src/persistence/hook-rotation.repository';
import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';
import { HookReceiver } from './helpers/hook-receiver';

const ADMIN = 'admin-token-reencrypt-3d9e71';

/**
 * Issue 12: `POST /admin/v1/reencrypt` (docs/ADMIN-API.md) moves every stored secret to the first
 * key of TOKEN_ENCRYPTION_KEYS — the access token, the hook signing token, and the webhook secrets
 * of a rotation under way (`connection.hook_rotations`) — after which the old key can go.
 */
describe('connection-service: re-encryption over the admin API', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  let maintainer: SeededUser;
  let connectionId = '';
  const oldRing = TEST_TOKEN_ENCRYPTION_KEYS; // k1:…
  const k2 = `k2:${randomBytes(32).toString('base64')}`;
  const rotationSecrets = {
    secret: `rotation-secret-${randomBytes(6).toString('hex')}`,
    signingToken: 'whsec_x',
  };

  const reencrypt = async (token: string) => {
    const response = await fetch(`${stack.url('connection-service')}/admin/v1/reencrypt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const keyIds = async () => {
    const connection = await kit.db.query<{ token_key_id: string; hook_signing_key_id: string }>(
      'SELECT token_key_id, hook_signing_key_id FROM connection.connections WHERE id = $1',
      [connectionId],
    );
    const rotation = await kit.db.query<{ key_id: string; secrets_ciphertext: string }>(
      'SELECT key_id, secrets_ciphertext FROM connection.hook_rotations WHERE connection_id = $1',
      [connectionId],
    );
    return { ...connection.rows[0], rotation: rotation.rows[0] };
  };

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_admin_keys',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url, ADMIN_API_TOKEN: ADMIN } },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.createProject({ path: 'rekey/one' });
    maintainer = await gitlabUser(kit.sim, 'rekeyer', {
      project: 'rekey/one',
      accessLevel: SIM_ACCESS.maintainer,
    });
    const response = await kit.connect('rekey-one', { projectRef: 'rekey/one', token: maintainer.token });
    expect(response.status).toBe(200);
    connectionId = String(response.body['connectionId']);
    // A rotation under way (as HookRotationRepository.begin writes it), sealed with the old key.
    const sealed = new TokenCipher(parseKeyRing(oldRing)).encrypt(
      JSON.stringify(rotationSecrets),
      rotationContext(connectionId),
    );
    await kit.db.query(
      `INSERT INTO connection.hook_rotations
         (connection_id, new_secret_sha256, previous_secret_sha256, key_id, secrets_ciphertext, started_at)
       VALUES ($1, 'feed', NULL, $2, $3, now())`,
      [connectionId, sealed.keyId, sealed.ciphertext],
    );
    // The new key goes first; the old one stays until the re-encryption is done.
    await stack.app('connection-service').stop();
    await stack.startApp('connection-service', { TOKEN_ENCRYPTION_KEYS: `${k2},${oldRing}` });
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  it('is refused with the core token or none, and moves nothing then', async () => {
    for (const token of [TEST_CORE_API_TOKEN, '']) expect((await reencrypt(token)).status).toBe(401);
    expect(await keyIds()).toMatchObject({
      token_key_id: 'k1',
      hook_signing_key_id: 'k1',
      rotation: { key_id: 'k1' },
    });
  });

  it('moves the token, the signing token and the rotation under way to the first key, idempotently', async () => {
    const run = await reencrypt(ADMIN);
    expect(run).toEqual({ status: 200, body: { moved: 3, failed: [], keyId: 'k2' } });
    const after = await keyIds();
    expect(after).toMatchObject({
      token_key_id: 'k2',
      hook_signing_key_id: 'k2',
      rotation: { key_id: 'k2' },
    });
    // Readable with the new key alone, under the rotation's own associated data.
    const newOnly = new TokenCipher(parseKeyRing(k2));
    expect(
      JSON.parse(
        newOnly.decrypt(
          { keyId: 'k2', ciphertext: after.rotation!.secrets_ciphertext },
          rotationContext(connectionId),
        ),
      ),
    ).toEqual(rotationSecrets);
    expect((await reencrypt(ADMIN)).body).toEqual({ moved: 0, failed: [], keyId: 'k2' });
  });

  it('keeps working once the old key is gone', async () => {
    await kit.db.query('DELETE FROM connection.hook_rotations WHERE connection_id = $1', [connectionId]);
    await stack.app('connection-service').stop();
    await stack.startApp('connection-service', { TOKEN_ENCRYPTION_KEYS: k2 });
    expect(await kit.credentials(connectionId)).toMatchObject({
      ok: true,
      credentials: { token: maintainer.token },
    });
  }, 60_000);

  it('never logs a secret', () => {
    const logs = stack.allLogs();
    expect(logs).not.toContain(ADMIN);
    expect(logs).not.toContain(rotationSecrets.secret);
    expect(logs).not.toContain(maintainer.token);
  });
});
