import { Injectable } from '@nestjs/common';

import type { GitlabClient, GitlabHook, HookTestTrigger } from '@testkase/gitlab';
import { isAppError } from '@testkase/util';

import { HOOK_EVENT_FLAGS } from '../connection/gitlab-access';
import { newWebhookSecret } from '../crypto/webhook-secret';
import type { HookRemovalRecord } from '../persistence/entities/connection.entity';

export interface HookRegistration {
  readonly hook: GitlabHook;
  /** sha256 of the secret GitLab now holds, when a new one was set; null when the old one stands. */
  readonly newSecretSha256: string | null;
  /** True when this call created the hook (so a failed connect may remove it again). */
  readonly created: boolean;
}

/** Reacts to a new secret before GitLab knows it: the gateway must accept it first. */
export type SecretPublisher = (secretSha256: string) => Promise<void>;

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
   * Makes sure the project has our hook, at `url`, with exactly our events. A new secret is made
   * (and given to `publishSecret` before GitLab learns it) whenever GitLab would otherwise hold a
   * secret we do not know: a new hook, a hook found by its URL, or a changed URL.
   */
  async ensure(
    client: GitlabClient,
    gitlabProjectId: number,
    knownHookId: number | null,
    url: string,
    publishSecret: SecretPublisher,
  ): Promise<HookRegistration> {
    const known = knownHookId === null ? null : await this.find(client, gitlabProjectId, knownHookId);
    if (known && known.url === url) {
      const hook = this.eventsMatch(known)
        ? known
        : await client.hooks.update(gitlabProjectId, known.id, { ...HOOK_FIELDS });
      return { hook, newSecretSha256: null, created: false };
    }
    const existing =
      known ?? (await client.hooks.list(gitlabProjectId)).find((hook) => hook.url === url) ?? null;
    const { secret, sha256 } = newWebhookSecret();
    await publishSecret(sha256);
    const fields = { ...HOOK_FIELDS, url, token: secret };
    const hook = existing
      ? await client.hooks.update(gitlabProjectId, existing.id, fields)
      : await client.hooks.create(gitlabProjectId, fields);
    return { hook, newSecretSha256: sha256, created: !existing };
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

export const describeFailure = (error: unknown): string =>
  isAppError(error) ? `${error.code}: ${error.message}` : 'unexpected error (see the service log)';
