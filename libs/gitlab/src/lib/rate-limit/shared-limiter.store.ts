import type { RequestCategory } from './rate-limits';

/**
 * Where the replicas of a service keep one token's budget together, so that N replicas spend one
 * budget, not N (docs/ARCHITECTURE.md, "Running many replicas"). The schedule is the
 * {@link SpacedLimiter}'s (generic cell rate algorithm), kept in the store: every reservation moves
 * the token's next slot of that category one interval on, atomically, measured on the store's clock
 * so that replicas with skewed clocks still agree. `key` is a hash of the instance and token, never
 * the token.
 */
export interface SharedLimiterStore {
  /**
   * Reserves the next slot of `category` for `key`: slots `intervalMs` apart, of which a request may
   * use one up to `toleranceMs` early. Resolves to how long the caller must wait before sending (ms).
   */
  reserve(key: string, category: RequestCategory, intervalMs: number, toleranceMs: number): Promise<number>;
  /** How long the server-imposed pause of `key` still runs (ms; 0 when none). */
  pausedFor(key: string): Promise<number>;
  /** Extends (never shortens) the pause of `key` to at least `ms` from now. */
  pauseFor(key: string, ms: number): Promise<void>;
}
