import type { GitlabClient, GitlabTokenInfo, GitlabUser } from '@testkase/gitlab';
import { AppError, isAppError } from '@testkase/util';

export const REQUIRED_SCOPE = 'api';

/** `GET /personal_access_tokens/self` came with GitLab 15.5 (docs/GITLAB.md, "Older GitLab versions"). */
export const TOKEN_SELF_RELEASE = [15, 5] as const;

/** A check GitLab could not answer: the connection works, but this fact about it is unknown. */
export const CHECK_WARNING_CODES = ['TOKEN_SCOPES_UNVERIFIED', 'TOKEN_EXPIRY_UNVERIFIED'] as const;
export type CheckWarningCode = (typeof CHECK_WARNING_CODES)[number];

export interface CheckWarning {
  code: CheckWarningCode;
  message: string;
  /** What `GET /version` said, or null when it did not answer. */
  gitlabVersion: string | null;
}

/** What GitLab told us about the token (or could not: see `warnings`). */
export interface TokenFacts {
  /** The scopes the token certainly has (all of them when no TOKEN_SCOPES_UNVERIFIED warning). */
  readonly scopes: string[];
  /** `YYYY-MM-DD`, or null: no expiry, or unknown (TOKEN_EXPIRY_UNVERIFIED). */
  readonly expiresAt: string | null;
  readonly warnings: CheckWarning[];
}

const today = (now: Date): string => now.toISOString().slice(0, 10);

const expiredOn = (expiresAt: string | null, now: Date): boolean =>
  expiresAt !== null && expiresAt <= today(now);

/** `15.4.6-ee` → true for `[15, 5]`; null for a version that does not parse. */
export function isBefore(version: string, [major, minor]: readonly [number, number]): boolean | null {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) return null;
  const [own, ownMinor] = [Number(match[1]), Number(match[2])];
  return own < major || (own === major && ownMinor < minor);
}

/** The facts `GET /personal_access_tokens/self` gives, or the error that names what is wrong. */
export function factsFromSelf(info: GitlabTokenInfo, now: Date): TokenFacts {
  if (expiredOn(info.expires_at, now)) {
    throw new AppError('TOKEN_EXPIRED', `The GitLab token expired on ${String(info.expires_at)}`, {
      details: { expiresAt: info.expires_at },
    });
  }
  if (info.revoked || info.active === false) {
    throw new AppError('AUTH_FAILED', 'The GitLab token is revoked or inactive', {
      details: { reason: 'revoked' },
    });
  }
  const scopes = [...info.scopes];
  if (!scopes.includes(REQUIRED_SCOPE)) throw insufficientScope(scopes);
  return { scopes, expiresAt: info.expires_at, warnings: [] };
}

function insufficientScope(scopes: string[], why = ''): AppError {
  return new AppError(
    'INSUFFICIENT_SCOPE',
    `The GitLab token needs the "${REQUIRED_SCOPE}" scope; it has: ${scopes.join(', ') || 'none'}${why}`,
    { details: { scopes, requiredScope: REQUIRED_SCOPE } },
  );
}

const versionText = (version: string | null): string => (version ? `GitLab ${version}` : 'This GitLab');

/**
 * On a GitLab that cannot describe one token, the user's token list bounds what this token can be:
 * it is one of the user's active tokens. A fact all of them share is the token's; when none has
 * `api`, neither has this one. What they disagree on is reported as a warning, not guessed.
 */
export function factsFromTokenList(
  tokens: readonly GitlabTokenInfo[],
  owner: GitlabUser,
  version: string | null,
  now: Date,
): TokenFacts {
  const candidates = tokens.filter(
    (token) => !token.revoked && token.active !== false && !expiredOn(token.expires_at, now),
  );
  const gitlab = versionText(version);
  if (candidates.length > 0 && !candidates.some((token) => token.scopes.includes(REQUIRED_SCOPE))) {
    throw insufficientScope(
      [...new Set(candidates.flatMap((token) => token.scopes))],
      ` (${gitlab} cannot describe one token: this is what ${owner.username}'s active tokens have)`,
    );
  }
  if (candidates.length === 0) return unverified(version, `${owner.username}'s tokens are not listed`);
  const scopes =
    candidates[0]?.scopes.filter((scope) => candidates.every((token) => token.scopes.includes(scope))) ?? [];
  const warnings: CheckWarning[] = [];
  if (!candidates.every((token) => token.scopes.includes(REQUIRED_SCOPE))) {
    warnings.push({
      code: 'TOKEN_SCOPES_UNVERIFIED',
      message: `${gitlab} cannot tell which scopes this token has (GET /personal_access_tokens/self came with 15.5), and ${owner.username} has active tokens with and without "${REQUIRED_SCOPE}": make sure this one has it`,
      gitlabVersion: version,
    });
  }
  const expiries = new Set(candidates.map((token) => token.expires_at));
  if (expiries.size > 1) {
    warnings.push({
      code: 'TOKEN_EXPIRY_UNVERIFIED',
      message: `${gitlab} cannot tell when this token expires (GET /personal_access_tokens/self came with 15.5), and ${owner.username}'s active tokens expire on different dates: the connection will not warn before it does`,
      gitlabVersion: version,
    });
  }
  const [expiresAt = null] = expiries.size === 1 ? expiries : [];
  return { scopes, expiresAt, warnings };
}

function unverified(version: string | null, why: string): TokenFacts {
  const gitlab = versionText(version);
  return {
    scopes: [],
    expiresAt: null,
    warnings: [
      {
        code: 'TOKEN_SCOPES_UNVERIFIED',
        message: `${gitlab} cannot tell which scopes this token has (GET /personal_access_tokens/self came with 15.5) and ${why}: make sure it has "${REQUIRED_SCOPE}"`,
        gitlabVersion: version,
      },
      {
        code: 'TOKEN_EXPIRY_UNVERIFIED',
        message: `${gitlab} cannot tell when this token expires (GET /personal_access_tokens/self came with 15.5) and ${why}: the connection will not warn before it does`,
        gitlabVersion: version,
      },
    ],
  };
}

/** A list call GitLab does not serve here (an old or trimmed instance), as opposed to a failure. */
const LIST_UNAVAILABLE = new Set(['GITLAB_NOT_FOUND', 'GITLAB_REJECTED', 'INSUFFICIENT_ROLE']);

/**
 * The token's scopes and expiry, from `GET /personal_access_tokens/self` where GitLab has it.
 * Before 15.5 that path is not a route (404) or reaches `GET /personal_access_tokens/:id` as an
 * unknown id (401 for non-admins), so a 404, or a plain 401 from a GitLab older than 15.5 whose
 * `GET /user` accepts the token, means "cannot tell": the facts then come from the user's token
 * list, and what it cannot settle is a warning (docs/GITLAB.md, "Older GitLab versions").
 *
 * @param owner the token's user (`GET /user`), asked for only when the fallback needs it
 */
export async function inspectToken(
  client: GitlabClient,
  owner: () => Promise<GitlabUser>,
  now: Date,
): Promise<TokenFacts> {
  let selfError: AppError;
  try {
    return factsFromSelf(await client.tokens.self(), now);
  } catch (error) {
    const plain401 =
      isAppError(error) && error.code === 'AUTH_FAILED' && error.details?.['reason'] === 'invalid';
    if (!isAppError(error) || !(error.code === 'GITLAB_NOT_FOUND' || plain401)) throw error;
    selfError = error;
  }
  const version = await client.instance.version().then(
    (answer) => answer.version,
    () => null,
  );
  const older = version === null ? null : isBefore(version, TOKEN_SELF_RELEASE);
  // A 401 from a GitLab that has the endpoint (or will not say its version) is about the token.
  if (selfError.code === 'AUTH_FAILED' && older !== true) throw selfError;
  const user = await owner();
  let tokens: GitlabTokenInfo[];
  try {
    tokens = await client.tokens.listOf(user.id);
  } catch (error) {
    if (!isAppError(error) || !LIST_UNAVAILABLE.has(error.code)) throw error;
    return unverified(version, `it does not list ${user.username}'s tokens either`);
  }
  return factsFromTokenList(tokens, user, version, now);
}
