import { Injectable } from '@nestjs/common';

import {
  assertInstanceUrlAllowed,
  type GitlabClient,
  type GitlabProject,
  type GitlabUser,
} from '@testkase/gitlab';
import { AppError, isAppError } from '@testkase/util';

import { MINIMUM_ACCESS_LEVEL, roleName } from '../connection/gitlab-access';
import { GitlabClientFactory, type GitlabTarget } from './gitlab-client.factory';
import { inspectToken, type TokenFacts } from './token-inspection';

/** What the checks established about an instance, a token and a project. */
export interface VerifiedTarget {
  /** Normalised (no trailing slash). */
  readonly instanceUrl: string;
  readonly user: { readonly id: number; readonly username: string };
  /** Scopes and expiry as far as this GitLab can tell; `warnings` names what it could not. */
  readonly token: TokenFacts;
  readonly project: { readonly id: number; readonly path: string; readonly webUrl: string };
  readonly accessLevel: number;
}

export interface CheckInput extends GitlabTarget {
  readonly projectRef: string | number;
  /** Below this level → INSUFFICIENT_ROLE (default Reporter). */
  readonly minimumAccessLevel?: number;
}

/**
 * The connection check of docs/ARCHITECTURE.md, in order: the instance URL (SSRF policy, then
 * reachability), the token (`GET /user`, `GET /personal_access_tokens/self` or, before GitLab 15.5,
 * what the user's token list settles), the project, and the token user's effective role. Each
 * failure is the error code that names it; a check the GitLab cannot answer is a warning.
 */
@Injectable()
export class GitlabConnectionCheck {
  constructor(private readonly clients: GitlabClientFactory) {}

  async check(input: CheckInput, now = new Date()): Promise<VerifiedTarget> {
    // Building the client checks the URL's form (scheme, credentials, query); then its addresses.
    return this.clients.with(input, 'interactive', async (client) => {
      await assertInstanceUrlAllowed(client.instanceUrl, this.clients.policy);
      const user = await this.tokenOwner(client);
      const token = await inspectToken(client, async () => user, now);
      const project = await client.projects.get(
        typeof input.projectRef === 'number' || !/^\d+$/.test(input.projectRef)
          ? input.projectRef
          : Number(input.projectRef),
      );
      const accessLevel = await this.accessLevel(client, project, user);
      const minimum = input.minimumAccessLevel ?? MINIMUM_ACCESS_LEVEL;
      if (accessLevel < minimum) {
        throw new AppError(
          'INSUFFICIENT_ROLE',
          `The token user ${user.username} is ${roleName(accessLevel)} on ${project.path_with_namespace}; at least ${roleName(minimum)} is needed`,
          { details: { accessLevel, role: roleName(accessLevel), requiredRole: roleName(minimum) } },
        );
      }
      return {
        instanceUrl: client.instanceUrl,
        user: { id: user.id, username: user.username },
        token,
        project: { id: project.id, path: project.path_with_namespace, webUrl: project.web_url },
        accessLevel,
      };
    });
  }

  private async tokenOwner(client: GitlabClient): Promise<GitlabUser> {
    try {
      return await client.users.current();
    } catch (error) {
      if (!isAppError(error)) throw error;
      // A 403 on /user that is not about scopes: a blocked or locked account.
      if (error.code === 'INSUFFICIENT_ROLE') {
        throw new AppError(
          'AUTH_FAILED',
          `GitLab refused the token's user: ${String(error.details?.['gitlabMessage'] ?? '')}`,
          {
            details: { ...error.details, reason: 'user_blocked' },
          },
        );
      }
      if (error.code === 'GITLAB_NOT_FOUND' || error.code === 'PROJECT_NOT_FOUND') {
        throw new AppError(
          'INSTANCE_UNREACHABLE',
          `${client.instanceUrl} does not answer like a GitLab API (GET /api/v4/user: 404)`,
          {
            details: { cause: 'not a GitLab API' },
          },
        );
      }
      throw error;
    }
  }

  /** The effective (inherited, invited) membership; without one, what the project itself reports. */
  private async accessLevel(client: GitlabClient, project: GitlabProject, user: GitlabUser): Promise<number> {
    try {
      return (await client.members.getEffective(project.id, user.id)).access_level;
    } catch (error) {
      if (!isAppError(error) || error.code !== 'GITLAB_NOT_FOUND') throw error;
      const permissions = project.permissions;
      return Math.max(
        permissions?.project_access?.access_level ?? 0,
        permissions?.group_access?.access_level ?? 0,
      );
    }
  }
}
