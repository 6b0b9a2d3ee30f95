import { sha256Hex, sleep } from '@testkase/util';

import type { GitlabRateLimits, RateLimitRule, RequestCategory } from './rate-limits';
import { SpacedLimiter } from './spaced-limiter';

/** Thrown by `acquire` when the server-imposed pause is longer than the caller may wait. */
export class TokenPausedError extends Error {
  constructor(readonly remainingMs: number) {
    super(`token paused by GitLab for another ${remainingMs} ms`);
    this.name = 'TokenPausedError';
  }
}

const spacerFor = (rule: RateLimitRule | null): SpacedLimiter | null =>
  rule ? new SpacedLimiter(rule) : null;

/**
 * The budget of one token on one instance: {@link SpacedLimiter}s (at most N in any window, served
 * in the order asked) for the overall, issue-creation and note-creation limits, plus a pause the
 * server can impose through `RateLimit-Remaining: 0` / `Retry-After`, which every caller of the
 * token then waits out.
 */
export class TokenRateLimiter {
  private pausedUntilMs = 0;
  private readonly spacers: Readonly<Record<RequestCategory, SpacedLimiter | null>>;

  constructor(readonly limits: GitlabRateLimits) {
    this.spacers = {
      request: spacerFor(limits.requests),
      issueCreate: spacerFor(limits.issueCreates),
      noteCreate: spacerFor(limits.noteCreates),
    };
  }

  /**
   * How long a request of `category` asked for now would wait for the client-side budget and any
   * server-imposed pause (ms), without taking a slot: lets a caller answer "pending" at once
   * instead of holding its own caller.
   */
  wouldWait(category: RequestCategory): number {
    const now = Date.now();
    const budget =
      category === 'request'
        ? (this.spacers.request?.wouldWait(now) ?? 0)
        : Math.max(this.spacers[category]?.wouldWait(now) ?? 0, this.spacers.request?.wouldWait(now) ?? 0);
    return Math.max(budget, this.pausedUntilMs - now);
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
    if (category !== 'request') await sleepIfNeeded(this.spacers[category]?.reserve() ?? 0);
    await sleepIfNeeded(this.spacers.request?.reserve() ?? 0);
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

async function sleepIfNeeded(ms: number): Promise<void> {
  if (ms > 0) await sleep(ms);
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
