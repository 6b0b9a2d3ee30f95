import type { GitlabClient, GitlabHook } from '@testkase/gitlab';

import { HookManager, signingDiffers } from './hook-manager';

const URL = 'https://gateway.example.com/webhooks/gitlab/6f1b2a0e-8a43-4d55-9a57-3c1f7f7d1a11';

const hook = (fields: Record<string, unknown> = {}): GitlabHook =>
  ({
    id: 7,
    url: URL,
    project_id: 42,
    push_events: false,
    issues_events: true,
    confidential_issues_events: true,
    note_events: true,
    confidential_note_events: true,
    enable_ssl_verification: true,
    created_at: '2026-11-25T10:00:00Z',
    ...fields,
  }) as GitlabHook;

/** A GitLab that holds one hook and answers writes with `answer` (what it reports after the write). */
function fakeGitlab(current: GitlabHook, answer: Record<string, unknown>) {
  const writes: Array<Record<string, unknown>> = [];
  const client = {
    hooks: {
      get: async () => current,
      list: async () => [current],
      update: async (_project: number, _id: number, input: Record<string, unknown>) => {
        writes.push(input);
        return hook(answer);
      },
      create: async (_project: number, input: Record<string, unknown>) => {
        writes.push(input);
        return hook(answer);
      },
    },
  } as unknown as GitlabClient;
  return { client, writes };
}

describe('HookManager.ensure and the signing rules', () => {
  const manager = new HookManager();
  const published: string[] = [];
  const publish = async (sha256: string) => void published.push(sha256);

  it('keeps a hook that matches, signed or not as GitLab can', async () => {
    for (const [fields, signed] of [
      [{ signing_token_present: true }, true],
      [{}, false], // a GitLab that cannot sign
    ] as const) {
      const { client, writes } = fakeGitlab(hook(fields), {});
      const registration = await manager.ensure(client, 42, 7, URL, signed, publish);
      expect(registration.newSecrets).toBeNull();
      expect(writes).toEqual([]);
    }
  });

  it('renews the secrets of a hook that matches when asked (a reconnect, a repair), publishing first', async () => {
    const { client, writes } = fakeGitlab(hook({ signing_token_present: true }), {
      signing_token_present: true,
    });
    const before = published.length;
    const registration = await manager.ensure(client, 42, 7, URL, true, publish, { renew: true });
    expect(published).toHaveLength(before + 1);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      url: URL,
      token: expect.any(String),
      signing_token: expect.any(String),
    });
    expect(registration).toMatchObject({ created: false, newSecrets: { sha256: published.at(-1) } });
  });

  it('gives new secrets, a signing token included, when GitLab can sign a hook we hold no key for', async () => {
    const { client, writes } = fakeGitlab(hook({ signing_token_present: false }), {
      signing_token_present: true,
    });
    const registration = await manager.ensure(client, 42, 7, URL, false, publish);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.['signing_token']).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(registration.newSecrets).toEqual({
      sha256: published.at(-1),
      signingToken: writes[0]?.['signing_token'],
    });
  });

  it('takes a hook as signed only when GitLab says so with a boolean true', async () => {
    for (const reported of [undefined, false, 'true', 1, null]) {
      const { client } = fakeGitlab(hook(), { signing_token_present: reported });
      const registration = await manager.ensure(client, 42, null, `${URL}-new`, false, publish);
      expect(registration.newSecrets?.signingToken).toBeNull();
    }
    expect(signingDiffers(hook({ signing_token_present: 'true' }), true)).toBe(true);
    expect(signingDiffers(hook({ signing_token_present: true }), false)).toBe(true);
    expect(signingDiffers(hook({}), false)).toBe(false);
  });
});
