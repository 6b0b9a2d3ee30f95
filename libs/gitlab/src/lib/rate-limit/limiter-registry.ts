import { sha256Hex, sleep } from '@testkase/util';

import type { GitlabRateLimits, RateLimitRule, RequestCategory } from './rate-limits';
import type { SharedLimiterStore } from './shared-limiter.store';
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

/** Where a limiter shares its budget with the other replicas, and under which key (a hash). */
export interface SharedBudget {
  readonly store: SharedLimiterStore;
  readonly key: string;
}

/**
 * The budget of one token on one instance: {@link SpacedLimiter}s (at most N in any window, served
 * in the order asked) for the overall, issue-creation and note-creation limits, plus a pause the
 * server can impose through `RateLimit-Remaining: 0` / `Retry-After`, which every caller of the
 * token then waits out.
 *
 * With a {@link SharedBudget} the slots and the pause are also kept in its store, so every replica
 * of the service spends one budget: a request waits for the later of its slot in this process and
 * its slot in the store (which holds this process's reservations too).
 */
export class TokenRateLimiter {
  private pausedUntilMs = 0;
  private readonly spacers: Readonly<Record<RequestCategory, SpacedLimiter | null>>;

  constructor(
    readonly limits: GitlabRateLimits,
    private readonly shared?: SharedBudget,
  ) {
    this.spacers = {
      request: spacerFor(limits.requests),
      issueCreate: spacerFor(limits.issueCreates),
      noteCreate: spacerFor(limits.noteCreates),
    };
  }

  /**
   * How long a request of `category` asked for now would wait for the client-side budget and any
   * server-imposed pause (ms), without taking a slot: lets a caller answer "pending" at once
   * instead of holding its own caller. With a shared budget, what this process knows of it (its
   * own reservations, the last pause it saw): a lower bound.
   */
  wouldWait(category: RequestCategory): number {
    const now = Date.now();
    const budget =
      category === 'request'
        ? (this.spacers.request?.wouldWait(now) ?? 0)
        : Math.max(this.spacers[category]?.wouldWait(now) ?? 0, this.spacers.request?.wouldWait(now) ?? 0);
    return Math.max(budget, this.pausedUntilMs - now);
  }

  /**
   * Epoch ms from which this limiter holds nothing a fresh one would not (no slot reserved ahead,
   * no server pause), so dropping it from then on changes no caller's wait.
   */
  get idleFrom(): number {
    return Math.max(
      this.pausedUntilMs,
      ...Object.values(this.spacers).map((spacer) => spacer?.idleFrom ?? 0),
    );
  }

  /** Epoch ms until which the server asked this token to wait (0 when not paused). */
  get pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /** Extends (never shortens) the server-imposed pause, for every replica when shared. */
  async pauseFor(ms: number): Promise<void> {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, Date.now() + ms);
    if (this.shared) await this.shared.store.pauseFor(this.shared.key, ms);
  }

  /**
   * Waits until a request of `category` may be sent. Returns how long it waited for a server pause
   * (the part that counts against the caller's retry budget).
   * @throws TokenPausedError when the pause would exceed `maxPauseMs`
   */
  async acquire(category: RequestCategory, maxPauseMs: number): Promise<number> {
    let pausedMs = await this.waitOutPause(maxPauseMs);
    if (category !== 'request') await sleepIfNeeded(await this.reserve(category));
    await sleepIfNeeded(await this.reserve('request'));
    // A 429 seen by another caller while this one was queued applies to this request too.
    pausedMs += await this.waitOutPause(maxPauseMs - pausedMs);
    return pausedMs;
  }

  /** Takes the next slot of `category` (here, and in the shared store); resolves to the wait (ms). */
  private async reserve(category: RequestCategory): Promise<number> {
    const spacer = this.spacers[category];
    if (!spacer) return 0;
    const local = spacer.reserve();
    if (!this.shared) return local;
    const shared = await this.shared.store.reserve(
      this.shared.key,
      category,
      spacer.intervalMs,
      spacer.toleranceMs,
    );
    return Math.max(local, shared);
  }

  /** How long the server-imposed pause still runs (ms), as any replica saw it when shared. */
  private async remainingPause(): Promise<number> {
    const local = this.pausedUntilMs - Date.now();
    if (!this.shared) return local;
    const shared = await this.shared.store.pausedFor(this.shared.key);
    if (shared > 0) this.pausedUntilMs = Math.max(this.pausedUntilMs, Date.now() + shared);
    return Math.max(local, shared);
  }

  private async waitOutPause(maxPauseMs: number): Promise<number> {
    let waited = 0;
    for (
      let remaining = await this.remainingPause();
      remaining > 0;
      remaining = await this.remainingPause()
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

/** A client's hold on its token's limiter; `release` (idempotent) when the client is closed. */
export interface TokenLease {
  readonly limiter: TokenRateLimiter;
  release(): void;
}

export interface LimiterRegistryOptions {
  /**
   * Shares every token's budget with the other replicas of the service through this store (keyed by
   * sha256 of the instance URL and the token's hash). Without it the budget is this process's.
   */
  readonly store?: SharedLimiterStore;
  /**
   * Most limiters kept that no client holds but that still remember something (a slot reserved
   * ahead, a server pause); beyond it the least recently leased go first. Default 1,000.
   */
  readonly maxIdleEntries?: number;
}

interface Entry {
  readonly limiter: TokenRateLimiter;
  leases: number;
}

const DEFAULT_MAX_IDLE_ENTRIES = 1_000;

/**
 * One `TokenRateLimiter` per (instance URL, sha256(token)): every client built for the same token
 * in a process shares its budget. The first client to lease a token fixes its limits. Only the
 * token's hash is kept.
 *
 * Bounded: a limiter lives while a client holds a lease on it; once the last lease is released
 * (the client closed — a disconnect, a rotated token, a token that failed validation) it is kept
 * only until it is back to a fresh limiter's state, so forgetting it changes nothing, and at most
 * `maxIdleEntries` of those are kept at all.
 */
export class GitlabLimiterRegistry {
  /** In lease order: the least recently leased first. */
  private readonly entries = new Map<string, Entry>();
  private readonly maxIdleEntries: number;
  private readonly store: SharedLimiterStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(options: LimiterRegistryOptions = {}) {
    this.maxIdleEntries = options.maxIdleEntries ?? DEFAULT_MAX_IDLE_ENTRIES;
    this.store = options.store;
  }

  lease(instanceUrl: string, token: string, limits: GitlabRateLimits): TokenLease {
    const key = `${instanceUrl}\n${sha256Hex(token)}`;
    const entry = this.entries.get(key) ?? {
      limiter: new TokenRateLimiter(
        limits,
        this.store ? { store: this.store, key: sha256Hex(key) } : undefined,
      ),
      leases: 0,
    };
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.leases += 1;
    let released = false;
    return {
      limiter: entry.limiter,
      release: () => {
        if (released) return;
        released = true;
        entry.leases -= 1;
        this.sweep();
      },
    };
  }

  /** Limiters kept: held ones and idle ones that still remember something. */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.schedule(Infinity);
  }

  private sweep(now = Date.now()): void {
    const idle: string[] = [];
    let nextIdleAt = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.leases > 0) continue;
      const idleFrom = entry.limiter.idleFrom;
      if (idleFrom <= now) {
        this.entries.delete(key);
        continue;
      }
      idle.push(key);
      nextIdleAt = Math.min(nextIdleAt, idleFrom);
    }
    for (const key of idle.slice(0, Math.max(0, idle.length - this.maxIdleEntries))) this.entries.delete(key);
    this.schedule(this.entries.size > 0 ? nextIdleAt : Infinity);
  }

  /** One timer, at the earliest time an idle limiter can go; it never keeps the process alive. */
  private schedule(at: number): void {
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.sweep();
      },
      Math.max(0, at - Date.now()) + 1,
    );
    this.timer.unref();
  }
}

/** The registry clients use unless given another: one per process. */
export const processLimiterRegistry = new GitlabLimiterRegistry();
