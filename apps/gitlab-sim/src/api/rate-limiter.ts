import type { Clock } from '../store/clock';

const WINDOW_MS = 60_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  observed: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAt: number;
  /** Whole seconds until the reset (at least 1). */
  retryAfter: number;
}

/**
 * Fixed one-minute windows aligned to the clock, like Rack::Attack's throttles and
 * Gitlab::ApplicationRateLimiter. Counts each attempt, allowed or not.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  constructor(private readonly clock: Clock) {}

  hit(key: string, limit: number): RateDecision {
    const now = this.clock.now();
    const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    if (start !== this.lastSweep) this.sweep(start);
    let window = this.windows.get(key);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    const resetAt = start + WINDOW_MS;
    return {
      allowed: window.count <= limit,
      limit,
      observed: window.count,
      remaining: Math.max(0, limit - window.count),
      resetAt,
      retryAfter: Math.max(1, Math.ceil((resetAt - now) / 1000)),
    };
  }

  reset(): void {
    this.windows.clear();
  }

  private sweep(currentStart: number): void {
    this.lastSweep = currentStart;
    for (const [key, window] of this.windows) if (window.start < currentStart) this.windows.delete(key);
  }
}

/** The Rack::Attack informational headers (docs/GITLAB.md, "Rate limits"). */
export function rateLimitHeaders(name: string, decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Name': name,
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Observed': String(decision.observed),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(Math.floor(decision.resetAt / 1000)),
    'RateLimit-ResetTime': new Date(decision.resetAt).toUTCString(),
  };
}

export const APPLICATION_RATE_LIMIT_BODY = {
  message: { error: 'This endpoint has been requested too many times. Try again later.' },
};
