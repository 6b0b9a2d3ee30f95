import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

import { sha256Hex, sleep } from '@testkase/util';

import type { GitlabRateLimits, RateLimitRule, RequestCategory } from './rate-limits';

/** Thrown by `acquire` when the server-imposed pause is longer than the caller may wait. */
export class TokenPausedError extends Error {
  constructor(readonly remainingMs: number) {
    super(`token paused by GitLab for another ${remainingMs} ms`);
    this.name = 'TokenPausedError';
  }
}

function queueFor(rule: RateLimitRule | null): RateLimiterQueue | null {
  if (!rule) return null;
  return new RateLimiterQueue(new RateLimiterMemory({ points: rule.points, duration: rule.durationSeconds }));
}

/**
 * The budget of one token on one instance: FIFO queues (rate-limiter-flexible) for the overall,
 * issue-creation and note-creation limits, plus a pause the server can impose through
 * `RateLimit-Remaining: 0` / `Retry-After`, which every caller of the token then waits out.
 */
export class TokenRateLimiter {
  private pausedUntilMs = 0;
  private readonly queues: Readonly<Record<RequestCategory, RateLimiterQueue | null>>;

  constructor(readonly limits: GitlabRateLimits) {
    this.queues = {
      request: queueFor(limits.requests),
      issueCreate: queueFor(limits.issueCreates),
      noteCreate: queueFor(limits.noteCreates),
    };
  }

  /** Epoch ms until which the server asked this token to wait (0 when not paused). */
  get pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /** Extends (never shortens) the server-imposed pause. */
  pauseFor(ms: number): void {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, Date.now() + ms);
  }

  /**
   * Waits until a request of `category` may be sent. Returns how long it waited for a server pause
   * (the part that counts against the caller's retry budget).
   * @throws TokenPausedError when the pause would exceed `maxPauseMs`
   */
  async acquire(category: RequestCategory, maxPauseMs: number): Promise<number> {
    let pausedMs = await this.waitOutPause(maxPauseMs);
    if (category !== 'request') await this.queues[category]?.removeTokens(1);
    await this.queues.request?.removeTokens(1);
    // A 429 seen by another caller while this one was queued applies to this request too.
    pausedMs += await this.waitOutPause(maxPauseMs - pausedMs);
    return pausedMs;
  }

  private async waitOutPause(maxPauseMs: number): Promise<number> {
    let waited = 0;
    for (
      let remaining = this.pausedUntilMs - Date.now();
      remaining > 0;
      remaining = this.pausedUntilMs - Date.now()
    ) {
      if (waited + remaining > maxPauseMs) throw new TokenPausedError(remaining);
      await sleep(remaining);
      waited += remaining;
    }
    return waited;
  }
}

/**
 * One `TokenRateLimiter` per (instance URL, sha256(token)): every client built for the same token
 * in a process shares its budget. The first client to register a token fixes its limits.
 * Only the token's hash is kept.
 */
export class GitlabLimiterRegistry {
  private readonly limiters = new Map<string, TokenRateLimiter>();

  forToken(instanceUrl: string, token: string, limits: GitlabRateLimits): TokenRateLimiter {
    const key = `${instanceUrl}\n${sha256Hex(token)}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new TokenRateLimiter(limits);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  get size(): number {
    return this.limiters.size;
  }

  clear(): void {
    this.limiters.clear();
  }
}

/** The registry clients use unless given another: one per process. */
export const processLimiterRegistry = new GitlabLimiterRegistry();
