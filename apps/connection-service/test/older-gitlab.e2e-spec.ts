import { eventually, TestStack } from '@testkase/testing';

import {
  ConnectionTestKit,
  dateInDays,
  gitlabUser,
  SIM_ACCESS,
  type SeededUser,
} from './helpers/connection-stack';
import { HookReceiver } from './helpers/hook-receiver';

interface Warning {
  code: string;
  message: string;
  gitlabVersion: string | null;
}

interface View {
  connectionId: string;
  status: string;
  lastError: { code: string } | null;
  token: { scopes: string[]; expiresAt: string | null };
  hook: { checkedAt: string | null };
  warnings: Warning[];
}

/**
 * A self-managed GitLab older than 15.5, which cannot describe one token
 * (`GET /personal_access_tokens/self`): connecting works with the checks that version allows, and
 * says which ones it could not make (docs/GITLAB.md, "Older GitLab versions").
 */
describe('connection-service: a GitLab before 15.5', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  const PROJECT = 'legacy/tracker';

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_older',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url, HEALTH_CHECK_INTERVAL: '1s' } },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.createProject({ path: PROJECT });
    await kit.sim.updateSettings({ gitlabVersion: '15.4.6-ee' });
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  const maintainer = (
    username: string,
    options: Parameters<typeof gitlabUser>[2] = {},
  ): Promise<SeededUser> =>
    gitlabUser(kit.sim, username, { project: PROJECT, accessLevel: SIM_ACCESS.maintainer, ...options });

  const refusal = (response: { status: number; body: unknown }) => {
    const error = (response.body as { error?: { code: string; details?: Record<string, unknown> } }).error;
    return { status: response.status, code: error?.code, reason: error?.details?.['reason'] };
  };

  it('connects, and names the checks GitLab 15.4 cannot answer instead of failing', async () => {
    // The integration's token and an older read-only one: GitLab 15.4 cannot say which one is used.
    const bot = await maintainer('legacy-bot', { expiresAt: dateInDays(90) });
    await kit.sim.createToken({ username: 'legacy-bot', scopes: ['read_api'], expiresAt: dateInDays(20) });
    const response = await kit.connect('older', { projectRef: PROJECT, token: bot.token });
    expect(response.status).toBe(200);
    const view = response.body as unknown as View;
    expect(view).toMatchObject({ status: 'active', token: { scopes: [], expiresAt: null } });
    expect(view.warnings.map(({ code, gitlabVersion }) => ({ code, gitlabVersion }))).toEqual([
      { code: 'TOKEN_SCOPES_UNVERIFIED', gitlabVersion: '15.4.6-ee' },
      { code: 'TOKEN_EXPIRY_UNVERIFIED', gitlabVersion: '15.4.6-ee' },
    ]);
    expect(view.warnings[0]?.message).toMatch(/GET \/personal_access_tokens\/self came with 15\.5/);
    expect(JSON.stringify(view)).not.toContain('GITLAB_NOT_FOUND');
    // The same facts on every read, and the health job (every second here) keeps them, not auth_failed.
    const checkedAt = view.hook.checkedAt;
    await eventually(
      async () => {
        const current = (await kit.api<View>('GET', '/v1/projects/older/connection')).body;
        expect(current.hook.checkedAt).not.toBe(checkedAt);
        expect(current).toMatchObject({ status: 'active', lastError: null, warnings: view.warnings });
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect((await kit.api('DELETE', '/v1/projects/older/connection')).status).toBe(200);
  });

  it('finds the scopes and expiry from the token list when the user has one active token', async () => {
    const only = await maintainer('single-token', { expiresAt: dateInDays(10) });
    const response = await kit.connect('single', { projectRef: PROJECT, token: only.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'token_expiring',
      token: { scopes: ['api'], expiresAt: dateInDays(10) },
      warnings: [],
    });
    expect((await kit.api('DELETE', '/v1/projects/single/connection')).status).toBe(200);
  });

  it('still refuses what GET /user and the token list can tell: unknown, revoked, expired, no api', async () => {
    const revoked = await maintainer('revoked-user');
    await kit.sim.revokeToken({ token: revoked.token });
    const expired = await maintainer('expired-user', { expiresAt: dateInDays(30) });
    await kit.sim.expireToken({ token: expired.token });
    const readOnly = await maintainer('read-only-user', { scopes: ['read_api'] });
    const attempts = {
      unknown: refusal(
        await kit.connect('refused', { projectRef: PROJECT, token: 'glpat-unknown-0000000000' }),
      ),
      revoked: refusal(await kit.connect('refused', { projectRef: PROJECT, token: revoked.token })),
      expired: refusal(await kit.connect('refused', { projectRef: PROJECT, token: expired.token })),
      readOnly: refusal(await kit.connect('refused', { projectRef: PROJECT, token: readOnly.token })),
    };
    expect(attempts).toEqual({
      unknown: { status: 422, code: 'AUTH_FAILED', reason: 'invalid' },
      revoked: { status: 422, code: 'AUTH_FAILED', reason: 'revoked' },
      expired: { status: 422, code: 'TOKEN_EXPIRED', reason: 'expired' },
      readOnly: { status: 422, code: 'INSUFFICIENT_SCOPE', reason: undefined },
    });
    expect(await kit.rows('refused')).toEqual([]);
  });

  it('on a GitLab without the token list either (13.2) connects with both checks left open', async () => {
    await kit.sim.updateSettings({ gitlabVersion: '13.2.0' });
    try {
      const bot = await maintainer('ancient-bot');
      const response = await kit.connect('ancient', { projectRef: PROJECT, token: bot.token });
      expect(response.status).toBe(200);
      expect((response.body as unknown as View).warnings.map((warning) => warning.code)).toEqual([
        'TOKEN_SCOPES_UNVERIFIED',
        'TOKEN_EXPIRY_UNVERIFIED',
      ]);
      expect((await kit.api('DELETE', '/v1/projects/ancient/connection')).status).toBe(200);
    } finally {
      await kit.sim.updateSettings({ gitlabVersion: '15.4.6-ee' });
    }
  });

  it('describes the token as before once GitLab is 15.5 or later', async () => {
    await kit.sim.updateSettings({ gitlabVersion: '15.5.0' });
    try {
      const bot = await maintainer('modern-bot', { expiresAt: dateInDays(90) });
      await kit.sim.createToken({ username: 'modern-bot', scopes: ['read_api'] });
      const response = await kit.connect('modern', { projectRef: PROJECT, token: bot.token });
      expect(response.body).toMatchObject({
        token: { scopes: ['api'], expiresAt: dateInDays(90) },
        warnings: [],
      });
      expect((await kit.api('DELETE', '/v1/projects/modern/connection')).status).toBe(200);
    } finally {
      await kit.sim.updateSettings({ gitlabVersion: '15.4.6-ee' });
    }
  });
});
