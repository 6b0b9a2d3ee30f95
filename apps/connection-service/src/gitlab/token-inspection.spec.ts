import type { GitlabClient, GitlabTokenInfo, GitlabUser } from '@testkase/gitlab';
import { AppError } from '@testkase/util';

import { factsFromTokenList, inspectToken, isBefore, TOKEN_SELF_RELEASE } from './token-inspection';

const NOW = new Date('2026-03-01T12:00:00Z');
const alice = { id: 7, username: 'alice' } as GitlabUser;

const token = (overrides: Partial<GitlabTokenInfo> = {}): GitlabTokenInfo => ({
  id: 1,
  name: 'integration',
  revoked: false,
  active: true,
  scopes: ['api'],
  user_id: 7,
  created_at: '2025-01-01T00:00:00Z',
  last_used_at: null,
  expires_at: null,
  ...overrides,
});

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
};

describe('isBefore', () => {
  it.each([
    ['15.4.6-ee', true],
    ['15.5.0', false],
    ['14.10.5', true],
    ['16.0.0-pre', false],
    ['8.13.0-pre', true],
  ])('%s is before 15.5: %s', (version, expected) => {
    expect(isBefore(version, TOKEN_SELF_RELEASE)).toBe(expected);
  });

  it('says null for a version that does not parse', () => {
    expect(isBefore('unknown', TOKEN_SELF_RELEASE)).toBeNull();
  });
});

describe('factsFromTokenList (a GitLab before 15.5)', () => {
  it('takes the facts of the one active token as the token’s, with no warning', () => {
    const facts = factsFromTokenList(
      [
        token({ expires_at: '2026-09-30' }),
        token({ id: 2, revoked: true, active: false, scopes: ['read_api'] }),
      ],
      alice,
      '15.4.0',
      NOW,
    );
    expect(facts).toEqual({ scopes: ['api'], expiresAt: '2026-09-30', warnings: [] });
  });

  it('leaves out tokens that expired, even when GitLab still calls them active', () => {
    const facts = factsFromTokenList(
      [
        token({ expires_at: '2026-12-31' }),
        token({ id: 2, scopes: ['read_user'], expires_at: '2026-03-01' }),
      ],
      alice,
      '15.4.0',
      NOW,
    );
    expect(facts).toEqual({ scopes: ['api'], expiresAt: '2026-12-31', warnings: [] });
  });

  it('warns about what the active tokens disagree on, and keeps the scopes they share', () => {
    const facts = factsFromTokenList(
      [
        token({ scopes: ['api', 'read_user'], expires_at: '2026-06-01' }),
        token({ id: 2, scopes: ['read_api', 'read_user'], expires_at: '2027-01-01' }),
      ],
      alice,
      '15.4.0',
      NOW,
    );
    expect(facts.scopes).toEqual(['read_user']);
    expect(facts.expiresAt).toBeNull();
    expect(facts.warnings.map((warning) => [warning.code, warning.gitlabVersion])).toEqual([
      ['TOKEN_SCOPES_UNVERIFIED', '15.4.0'],
      ['TOKEN_EXPIRY_UNVERIFIED', '15.4.0'],
    ]);
    expect(facts.warnings[0]?.message).toMatch(/GitLab 15\.4\.0 cannot tell which scopes.*alice/);
  });

  it('knows the scope is api when every active token has it, whatever their expiry', () => {
    const facts = factsFromTokenList(
      [token({ expires_at: '2026-06-01' }), token({ id: 2, expires_at: null })],
      alice,
      null,
      NOW,
    );
    expect(facts.scopes).toEqual(['api']);
    expect(facts.warnings.map((warning) => warning.code)).toEqual(['TOKEN_EXPIRY_UNVERIFIED']);
  });

  it('refuses with INSUFFICIENT_SCOPE when no active token of the user has api', () => {
    expect(
      codeOf(() =>
        factsFromTokenList(
          [token({ scopes: ['read_api'] }), token({ id: 2, scopes: ['read_user'] })],
          alice,
          '14.0.0',
          NOW,
        ),
      ),
    ).toBe('INSUFFICIENT_SCOPE');
  });

  it('warns about both when the list has no active token at all', () => {
    const facts = factsFromTokenList([], alice, '15.0.0', NOW);
    expect(facts.warnings.map((warning) => warning.code)).toEqual([
      'TOKEN_SCOPES_UNVERIFIED',
      'TOKEN_EXPIRY_UNVERIFIED',
    ]);
  });
});

describe('inspectToken', () => {
  const gitlabError = (code: string, reason?: string) =>
    new AppError(code as 'AUTH_FAILED', code, reason ? { details: { reason } } : {});

  const clientOf = (answers: {
    self: () => Promise<GitlabTokenInfo>;
    version?: () => Promise<{ version: string; revision: string }>;
    list?: () => Promise<GitlabTokenInfo[]>;
  }) => {
    const calls: string[] = [];
    const client = {
      tokens: {
        self: () => (calls.push('self'), answers.self()),
        listOf: () => (calls.push('list'), (answers.list ?? (async () => [token()]))()),
      },
      instance: {
        version: () => (
          calls.push('version'),
          (answers.version ?? (async () => ({ version: '18.6.0', revision: 'x' })))()
        ),
      },
    } as unknown as GitlabClient;
    return { client, calls };
  };
  const owner = async () => alice;

  it('uses GET /personal_access_tokens/self where GitLab has it, and nothing else', async () => {
    const { client, calls } = clientOf({ self: async () => token({ expires_at: '2026-12-31' }) });
    expect(await inspectToken(client, owner, NOW)).toEqual({
      scopes: ['api'],
      expiresAt: '2026-12-31',
      warnings: [],
    });
    expect(calls).toEqual(['self']);
  });

  it('on 15.1–15.4 (self answers a plain 401) falls back to the token list', async () => {
    const { client, calls } = clientOf({
      self: async () => Promise.reject(gitlabError('AUTH_FAILED', 'invalid')),
      version: async () => ({ version: '15.4.6-ee', revision: 'x' }),
    });
    expect(await inspectToken(client, owner, NOW)).toEqual({
      scopes: ['api'],
      expiresAt: null,
      warnings: [],
    });
    expect(calls).toEqual(['self', 'version', 'list']);
  });

  it('keeps a plain 401 from a GitLab that has the endpoint: the token is refused', async () => {
    const { client } = clientOf({ self: async () => Promise.reject(gitlabError('AUTH_FAILED', 'invalid')) });
    await expect(inspectToken(client, owner, NOW)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('keeps a plain 401 when GitLab does not say its version either', async () => {
    const { client } = clientOf({
      self: async () => Promise.reject(gitlabError('AUTH_FAILED', 'invalid')),
      version: async () => Promise.reject(gitlabError('AUTH_FAILED', 'invalid')),
    });
    await expect(inspectToken(client, owner, NOW)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('never passes on a revoked or expired token, whatever the version', async () => {
    const { client } = clientOf({
      self: async () => Promise.reject(gitlabError('TOKEN_EXPIRED', 'expired')),
      version: async () => ({ version: '15.0.0', revision: 'x' }),
    });
    await expect(inspectToken(client, owner, NOW)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('before 15.1 (404) asks the owner, then warns when the list is missing too', async () => {
    let asked = 0;
    const { client } = clientOf({
      self: async () => Promise.reject(gitlabError('GITLAB_NOT_FOUND')),
      version: async () => ({ version: '13.2.0', revision: 'x' }),
      list: async () => Promise.reject(gitlabError('GITLAB_NOT_FOUND')),
    });
    const facts = await inspectToken(
      client,
      async () => {
        asked += 1;
        return alice;
      },
      NOW,
    );
    expect(asked).toBe(1);
    expect(facts.warnings.map((warning) => warning.code)).toEqual([
      'TOKEN_SCOPES_UNVERIFIED',
      'TOKEN_EXPIRY_UNVERIFIED',
    ]);
    expect(facts.warnings[0]?.message).toMatch(/GitLab 13\.2\.0 .* does not list alice's tokens/);
  });

  it('lets a GitLab outage during the fallback fail the check', async () => {
    const { client } = clientOf({
      self: async () => Promise.reject(gitlabError('GITLAB_NOT_FOUND')),
      list: async () => Promise.reject(gitlabError('GITLAB_UNAVAILABLE')),
    });
    await expect(inspectToken(client, owner, NOW)).rejects.toMatchObject({ code: 'GITLAB_UNAVAILABLE' });
  });
});
