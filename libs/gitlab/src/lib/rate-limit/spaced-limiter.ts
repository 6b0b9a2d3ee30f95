import type { RateLimitRule } from './rate-limits';

/** Share of a limit that may go at once before the even spacing starts (at least one request). */
const BURST_SHARE = 0.05;
/** Margin against timer and clock granularity, on top of the exact spacing. */
const SAFETY = 1.002;

/**
 * At most `points` requests in **any** window of `durationSeconds` — not only in windows aligned to
 * some clock. GitLab counts in fixed windows whose start we cannot see (Rack::Attack aligns them to
 * the clock, the application limiter starts them at a user's first request; docs/GITLAB.md, "Rate
 * limits"), so a fixed-window client could send a full budget at the end of one of our windows and
 * another at the start of the next, both inside one of GitLab's: twice the limit, and 429s.
 *
 * This is the generic cell rate algorithm in its virtual-scheduling form: a burst of B requests may
 * go at once, then one every `duration / (points − B)`, so any window holds at most B + (points − B)
 * = points, and a sustained stream runs at (points − B) per duration (95 % of the limit). Each call
 * reserves its slot at once, so callers are served in the order they asked, without a queue.
 */
export class SpacedLimiter {
  /** Spacing of the slots (ms), and how far ahead of its slot a request may go (the burst). */
  readonly intervalMs: number;
  readonly toleranceMs: number;
  /** Theoretical arrival time of the next request (epoch ms). */
  private nextAt = 0;

  constructor(rule: RateLimitRule) {
    const durationMs = rule.durationSeconds * 1000;
    if (rule.points <= 1) {
      this.intervalMs = durationMs * SAFETY;
      this.toleranceMs = 0;
      return;
    }
    const burst = Math.min(rule.points - 1, Math.max(1, Math.floor(rule.points * BURST_SHARE)));
    this.intervalMs = (durationMs / (rule.points - burst)) * SAFETY;
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** Reserves the next slot; resolves to how long the caller must wait before sending (ms). */
  reserve(now = Date.now()): number {
    const at = Math.max(this.nextAt, now);
    this.nextAt = at + this.intervalMs;
    return Math.max(0, at - this.toleranceMs - now);
  }

  /**
   * Epoch ms from which this limiter is back to a fresh one's state (nothing reserved ahead), so
   * forgetting it from then on changes nothing.
   */
  get idleFrom(): number {
    return this.nextAt;
  }

  /** How long a request reserved now would wait (ms), without reserving it. */
  wouldWait(now = Date.now()): number {
    return Math.max(0, Math.max(this.nextAt, now) - this.toleranceMs - now);
  }
}
