import { Injectable } from '@nestjs/common';

import type { GitlabClient, GitlabHook, HookTestTrigger } from '@testkase/gitlab';
import { isAppError } from '@testkase/util';

import { HOOK_EVENT_FLAGS } from '../connection/gitlab-access';
import { newSigningToken } from '../crypto/hook-signing';
import { newWebhookSecret } from '../crypto/webhook-secret';
import type { HookRemovalRecord } from '../persistence/entities/connection.entity';

/** What GitLab holds for a hook whose secrets were just set. */
export interface HookSecrets {
  /** sha256 of the secret token (the only form of it we keep). */
  readonly sha256: string;
  /** The `whsec_…` token GitLab now signs with; null when this GitLab cannot sign. */
  readonly signingToken: string | null;
}

export interface HookRegistration {
  readonly hook: GitlabHook;
  /** The secrets GitLab now holds, when new ones were set; null when the old ones stand. */
  readonly newSecrets: HookSecrets | null;
  /** True when this call created the hook (so a failed connect may remove it again). */
  readonly created: boolean;
}

/**
 * Reacts to a new secret before GitLab knows it: the gateway must accept it first, and keep accepting
 * the old one for the rotation's grace period (checking the token only: a new signing key reaches
 * the gateway once it is committed).
 */
export type SecretPublisher = (
  secretSha256: string,
  secrets: { readonly secret: string; readonly signingToken: string },
) => Promise<void>;

export type ReenableOutcome = 'reenabled' | 'nothing_to_send';

const HOOK_FIELDS = {
  ...HOOK_EVENT_FLAGS,
  enable_ssl_verification: true,
  name: 'TestKase',
  description: 'TestKase ⇄ GitLab Issues sync. Managed by TestKase: disconnect in TestKase to remove it.',
} as const;

const isGitlabStatus = (error: unknown, code: string, status?: number): boolean =>
  isAppError(error) && error.code === code && (status === undefined || error.details?.['status'] === status);

/** Registers, checks, re-enables and removes the project hook of a managed connection. */
@Injectable()
export class HookManager {
  /**
   * Makes sure the project has our hook, at `url`, with exactly our events, signed where GitLab can
   * sign. New secrets are made (the secret token given to `publishSecret` before GitLab learns it)
   * whenever GitLab would otherwise hold one we do not know (a new hook, a hook found by its URL, a
   * changed URL) or its signing differs from ours (`signed`: we hold a signing token for it), and
   * always with `renew`. The publisher keeps the old secret accepted meanwhile (a rotation's grace).
   */
  async ensure(
    client: GitlabClient,
    gitlabProjectId: number,
    knownHookId: number | null,
    url: string,
    signed: boolean,
    publishSecret: SecretPublisher,
    options: { renew?: boolean } = {},
  ): Promise<HookRegistration> {
    const known = knownHookId === null ? null : await this.find(client, gitlabProjectId, knownHookId);
    // `renew`: new secrets even for a hook that looks right (its secret may have been edited on GitLab).
    if (known && known.url === url && !signingToRenew(known, signed) && !options.renew) {
      const hook = this.eventsMatch(known)
        ? known
        : await client.hooks.update(gitlabProjectId, known.id, { ...HOOK_FIELDS });
      return { hook, newSecrets: null, created: false };
    }
    const existing =
      known ?? (await client.hooks.list(gitlabProjectId)).find((hook) => hook.url === url) ?? null;
    const { secret, sha256 } = newWebhookSecret();
    const signingToken = newSigningToken();
    await publishSecret(sha256, { secret, signingToken });
    const fields = { ...HOOK_FIELDS, url, token: secret, signing_token: signingToken };
    const hook = existing
      ? await client.hooks.update(gitlabProjectId, existing.id, fields)
      : await client.hooks.create(gitlabProjectId, fields);
    // A GitLab without the signing feature drops the parameter and does not report the field.
    const newSecrets = { sha256, signingToken: hook.signing_token_present === true ? signingToken : null };
    return { hook, newSecrets, created: !existing };
  }

  /**
   * Gives GitLab again the secrets of a rotation a crash interrupted (GitLab may or may not have
   * them): the hook found by id, else by its URL. Null when there is no such hook (the health check
   * then creates one).
   */
  async resend(
    client: GitlabClient,
    gitlabProjectId: number,
    knownHookId: number | null,
    url: string,
    secrets: { readonly secret: string; readonly signingToken: string },
  ): Promise<{ hook: GitlabHook; signingToken: string | null } | null> {
    const known = knownHookId === null ? null : await this.find(client, gitlabProjectId, knownHookId);
    const existing =
      known ?? (await client.hooks.list(gitlabProjectId)).find((hook) => hook.url === url) ?? null;
    if (!existing) return null;
    const hook = await client.hooks.update(gitlabProjectId, existing.id, {
      ...HOOK_FIELDS,
      url,
      token: secrets.secret,
      signing_token: secrets.signingToken,
    });
    return { hook, signingToken: hook.signing_token_present === true ? secrets.signingToken : null };
  }

  /** The hook, or null when GitLab no longer has it. */
  async find(client: GitlabClient, gitlabProjectId: number, hookId: number): Promise<GitlabHook | null> {
    try {
      return await client.hooks.get(gitlabProjectId, hookId);
    } catch (error) {
      if (isGitlabStatus(error, 'GITLAB_NOT_FOUND')) return null;
      throw error;
    }
  }

  /**
   * Sends a test delivery, which re-enables a disabled hook when our receiver answers 2xx. GitLab
   * builds the test from the project's latest issue (or note) and answers 422 when there is none.
   */
  async reenable(client: GitlabClient, gitlabProjectId: number, hookId: number): Promise<ReenableOutcome> {
    const triggers: HookTestTrigger[] = ['issues_events', 'note_events'];
    for (const trigger of triggers) {
      try {
        await client.hooks.test(gitlabProjectId, hookId, trigger);
        return 'reenabled';
      } catch (error) {
        const nothingToSend =
          isGitlabStatus(error, 'GITLAB_REJECTED', 422) &&
          /ensure the project has/i.test(String(isAppError(error) ? error.details?.['gitlabMessage'] : ''));
        if (!nothingToSend) throw error;
      }
    }
    return 'nothing_to_send';
  }

  /** Removes the hook; never throws: the outcome is recorded on the connection. */
  async remove(
    client: GitlabClient,
    gitlabProjectId: number,
    hookId: number,
    now: Date,
  ): Promise<HookRemovalRecord> {
    try {
      await client.hooks.delete(gitlabProjectId, hookId);
      return { outcome: 'removed', detail: null, at: now.toISOString() };
    } catch (error) {
      if (isGitlabStatus(error, 'GITLAB_NOT_FOUND')) {
        return { outcome: 'already_gone', detail: 'GitLab no longer had the hook', at: now.toISOString() };
      }
      return { outcome: 'failed', detail: describeFailure(error), at: now.toISOString() };
    }
  }

  private eventsMatch(hook: GitlabHook): boolean {
    return (
      hook.issues_events &&
      hook.confidential_issues_events &&
      hook.note_events &&
      hook.confidential_note_events &&
      !hook.push_events &&
      hook.enable_ssl_verification
    );
  }
}

/**
 * Whether GitLab's signing of the hook differs from what we hold (`signed`: we hold its signing
 * token): we would refuse every delivery, or GitLab signs with a key we do not know.
 */
export function signingDiffers(hook: GitlabHook, signed: boolean): boolean {
  return (hook.signing_token_present === true) !== signed;
}

/**
 * Whether to set new secrets on connect: the signing differs, or GitLab can sign (it reports
 * `signing_token_present`) a hook we hold no signing token for (one made before GitLab could).
 */
function signingToRenew(hook: GitlabHook, signed: boolean): boolean {
  return signingDiffers(hook, signed) || (!signed && hook.signing_token_present !== undefined);
}

export const describeFailure = (error: unknown): string =>
  isAppError(error) ? `${error.code}: ${error.message}` : 'unexpected error (see the service log)';
