export interface RateLimitRule {
  readonly points: number;
  readonly durationSeconds: number;
}

/** Client-side budgets per token. `null` means no client-side limit (server headers still apply). */
export interface GitlabRateLimits {
  /** Every request. */
  readonly requests: RateLimitRule | null;
  /** `POST /projects/:id/issues`. */
  readonly issueCreates: RateLimitRule | null;
  /** `POST /projects/:id/issues/:iid/notes`. */
  readonly noteCreates: RateLimitRule | null;
}

/** GitLab.com: 2,000 API requests/min per user, 200 issue creations/min, 60 note creations/min. */
export const GITLAB_COM_RATE_LIMITS: GitlabRateLimits = Object.freeze({
  requests: { points: 2000, durationSeconds: 60 },
  issueCreates: { points: 200, durationSeconds: 60 },
  noteCreates: { points: 60, durationSeconds: 60 },
});

/**
 * Self-managed defaults: user/IP API throttles and the issue-creation limit ship disabled; note
 * creation is limited to 300/min per user. An admin may enable more: the server's RateLimit-* and
 * Retry-After headers are honoured either way.
 */
export const SELF_MANAGED_RATE_LIMITS: GitlabRateLimits = Object.freeze({
  requests: null,
  issueCreates: null,
  noteCreates: { points: 300, durationSeconds: 60 },
});

export type RequestCategory = 'request' | 'issueCreate' | 'noteCreate';

/** Which budget a request spends besides the overall one. `apiPath` is relative to `/api/v4/`. */
export function categorizeRequest(method: string, apiPath: string): RequestCategory {
  if (method !== 'POST') return 'request';
  if (/^projects\/[^/]+\/issues\/?$/.test(apiPath)) return 'issueCreate';
  if (/^projects\/[^/]+\/issues\/[^/]+\/notes\/?$/.test(apiPath)) return 'noteCreate';
  return 'request';
}
