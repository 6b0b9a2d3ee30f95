import { isAppError } from '@testkase/util';

/** What a failed GitLab call means for the item (a defect, a comment) it was for. */
export type GitlabFailure =
  /** GitLab refused the token: nothing works until it is replaced. */
  | { readonly kind: 'auth'; readonly code: string; readonly message: string }
  /** GitLab (or the connection) refuses this for good: someone must act. */
  | { readonly kind: 'permanent'; readonly code: string; readonly message: string }
  /** Try again later (rate limit, GitLab or the network down, no answer). */
  | {
      readonly kind: 'transient';
      readonly code: string;
      readonly message: string;
      readonly retryAfterMs?: number;
    };

const PERMANENT = new Set([
  'GITLAB_REJECTED',
  'GITLAB_NOT_FOUND',
  'GITLAB_RESPONSE_TOO_LARGE',
  'INSUFFICIENT_ROLE',
  'INSUFFICIENT_SCOPE',
  'PROJECT_NOT_FOUND',
  'URL_NOT_ALLOWED',
  'VALIDATION_FAILED',
  'NOT_CONNECTED',
]);

/** Classifies an error from the GitLab client or the credentials request. */
export function gitlabFailureOf(error: unknown): GitlabFailure {
  if (!isAppError(error)) {
    return {
      kind: 'transient',
      code: 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
    };
  }
  const message = error.message.slice(0, 1_000);
  if (error.code === 'AUTH_FAILED' || error.code === 'TOKEN_EXPIRED')
    return { kind: 'auth', code: error.code, message };
  if (PERMANENT.has(error.code) && !error.transient) return { kind: 'permanent', code: error.code, message };
  return { kind: 'transient', code: error.code, message, retryAfterMs: error.retryAfterMs };
}

/** The wait before retry `failures` (1-based): 1 s, 2 s, 4 s … up to `maxMs`, at least GitLab's Retry-After. */
export function retryDelayMs(failures: number, maxMs: number, retryAfterMs?: number): number {
  const backoff = Math.min(maxMs, 1_000 * 2 ** Math.max(0, failures - 1));
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** Thrown to stop a lane: GitLab refused the token, nothing of this connection can work now. */
export class TokenRefused extends Error {
  constructor(
    readonly failure: GitlabFailure,
    /** GitLab's error, as the client threw it (the scheduler reports it as the connection's). */
    readonly error: unknown,
  ) {
    super(failure.message);
    this.name = 'TokenRefused';
  }
}
