import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { TEST_TOKEN_ENCRYPTION_KEYS, TestStack, WORKSPACE_ROOT } from '@testkase/testing';

import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';
import { HookReceiver } from './helpers/hook-receiver';

const REENCRYPT = path.join(
  WORKSPACE_ROOT,
  'dist',
  'apps',
  'connection-service',
  'src',
  'reencrypt-tokens.js',
);

/** Runs the re-encryption command as an operator would (`nx run connection-service:reencrypt-tokens`). */
function reencrypt(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [REENCRYPT], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/**
 * Tokens at rest: AES-256-GCM under the key ring, the key id kept with each ciphertext; a new first
 * key plus the re-encryption command moves every token to it, after which the old key can go.
 */
describe('connection-service: token encryption and key rotation', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  let maintainer: SeededUser;
  let reporter: SeededUser;
  const ids: Record<string, string> = {};
  const oldRing = TEST_TOKEN_ENCRYPTION_KEYS; // k1:…
  const k2 = `k2:${randomBytes(32).toString('base64')}`;
  const logs: string[] = [];

  const env = () => stack.envFor('connection-service');
  const signingKeys: string[] = [];
  const keyIds = async () =>
    (
      await kit.db.query(
        `SELECT project_id, token_key_id, token_ciphertext, hook_signing_key_id, hook_signing_ciphertext
           FROM connection.connections ORDER BY project_id`,
      )
    ).rows as Array<{
      project_id: string;
      token_key_id: string | null;
      token_ciphertext: string | null;
      hook_signing_key_id: string | null;
      hook_signing_ciphertext: string | null;
    }>;
  const restartWith = async (ring: string) => {
    logs.push(stack.app('connection-service').logs());
    await stack.app('connection-service').stop();
    await stack.startApp('connection-service', { TOKEN_ENCRYPTION_KEYS: ring });
  };

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_keys',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url } },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.createProject({ path: 'keys/one' });
    await kit.sim.createProject({ path: 'keys/two' });
    maintainer = await gitlabUser(kit.sim, 'keeper', {
      project: 'keys/one',
      accessLevel: SIM_ACCESS.maintainer,
    });
    reporter = await gitlabUser(kit.sim, 'watcher', {
      project: 'keys/two',
      accessLevel: SIM_ACCESS.reporter,
    });
    for (const [projectId, projectRef, user] of [
      ['one', 'keys/one', maintainer],
      ['two', 'keys/two', reporter],
      ['gone', 'keys/one', maintainer],
    ] as const) {
      const response = await kit.connect(projectId, { projectRef, token: user.token });
      expect(response.status).toBe(200);
      ids[projectId] = String(response.body['connectionId']);
    }
    expect((await kit.api('DELETE', '/v1/projects/gone/connection')).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  it('stores each token (and a managed hook’s signing token) sealed with the first key, never in clear, and wipes them on disconnect', async () => {
    const unsigned = { hook_signing_key_id: null, hook_signing_ciphertext: null };
    expect(await keyIds()).toEqual([
      { project_id: 'gone', token_key_id: null, token_ciphertext: null, ...unsigned },
      {
        project_id: 'one',
        token_key_id: 'k1',
        token_ciphertext: expect.any(String),
        hook_signing_key_id: 'k1',
        hook_signing_ciphertext: expect.any(String),
      },
      { project_id: 'two', token_key_id: 'k1', token_ciphertext: expect.any(String), ...unsigned },
    ]);
    const text = await kit.databaseText();
    expect(text).not.toContain(maintainer.token);
    expect(text).not.toContain(reporter.token);
    expect(text).not.toContain('whsec_');
  });

  it('decrypts old tokens after a new key is put first, and seals new ones with it', async () => {
    await restartWith(`${k2},${oldRing}`);
    expect(await kit.credentials(ids['one']!)).toMatchObject({
      ok: true,
      credentials: { token: maintainer.token },
    });
    expect(
      (await kit.api('PUT', '/v1/projects/two/connection/token', { token: reporter.token })).status,
    ).toBe(200);
    expect((await keyIds()).map((row) => row.token_key_id)).toEqual([null, 'k1', 'k2']);
  });

  it('moves every token to the first key with the re-encryption command, idempotently', async () => {
    const before = await keyIds();
    const run = await reencrypt({ ...env(), TOKEN_ENCRYPTION_KEYS: `${k2},${oldRing}` });
    logs.push(run.output);
    expect(run.code).toBe(0);
    // one's token and its hook's signing token; two's token was sealed with k2 on rotation.
    expect(run.output).toMatch(/"moved":2,"failed":0,"keyId":"k2"/);
    const after = await keyIds();
    expect(after.map((row) => row.token_key_id)).toEqual([null, 'k2', 'k2']);
    expect(after.map((row) => row.hook_signing_key_id)).toEqual([null, 'k2', null]);
    expect(after[1]!.token_ciphertext).not.toBe(before[1]!.token_ciphertext);
    expect(after[1]!.hook_signing_ciphertext).not.toBe(before[1]!.hook_signing_ciphertext);
    expect(after[2]!.token_ciphertext).toBe(before[2]!.token_ciphertext);

    const again = await reencrypt({ ...env(), TOKEN_ENCRYPTION_KEYS: `${k2},${oldRing}` });
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/"moved":0,"failed":0/);
  });

  it('needs only the new key afterwards', async () => {
    const signingKeyOfOne = async () => {
      const reply = await kit.webhookVerifier(ids['one']!);
      return reply.ok ? reply.signingKey : undefined;
    };
    const signingKey = await signingKeyOfOne();
    expect(signingKey).toMatch(/^whsec_/);
    signingKeys.push(String(signingKey));
    await restartWith(k2);
    expect(await signingKeyOfOne()).toBe(signingKey);
    expect(await kit.credentials(ids['one']!)).toMatchObject({
      ok: true,
      credentials: { token: maintainer.token },
    });
    expect(await kit.credentials(ids['two']!)).toMatchObject({
      ok: true,
      credentials: { token: reporter.token },
    });
  });

  it('reports (exit 1) tokens whose key is missing from the ring, and leaves them untouched', async () => {
    const before = await keyIds();
    const k3 = `k3:${randomBytes(32).toString('base64')}`;
    const run = await reencrypt({ ...env(), TOKEN_ENCRYPTION_KEYS: k3 });
    logs.push(run.output);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/not in TOKEN_ENCRYPTION_KEYS/);
    expect(run.output).toMatch(/"failed":2/);
    expect(await keyIds()).toEqual(before);
  });

  it('refuses to start with a malformed ring, naming the variable but not the key', async () => {
    const shortKey = randomBytes(31).toString('base64');
    const run = await reencrypt({ ...env(), TOKEN_ENCRYPTION_KEYS: `k9:${shortKey}` });
    expect(run.code).toBe(1);
    expect(run.output).toContain('TOKEN_ENCRYPTION_KEYS: key \\"k9\\" is 31 bytes');
    expect(run.output).not.toContain(shortKey);
  });

  it('never writes a token to a log line, the command output included', () => {
    const text = [...logs, stack.allLogs()].join('\n');
    expect(text).not.toContain(maintainer.token);
    expect(text).not.toContain(reporter.token);
    expect(signingKeys).toHaveLength(1);
    for (const key of signingKeys) expect(text).not.toContain(key);
  });
});
