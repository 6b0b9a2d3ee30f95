import type { SimHook } from '../store/models';

/**
 * GitLab's `WebHooks::AutoDisabling` (docs/GITLAB.md, "Webhook deliveries"): the 4th consecutive
 * failure disables a hook for 1 minute, each further failure doubles that (up to 24 h), and the
 * 40th disables it for good. Any success re-enables it and resets the counters.
 */
export const FAILURE_THRESHOLD = 3;
export const PERMANENTLY_DISABLED_FAILURE_THRESHOLD = 39;
export const INITIAL_BACKOFF_MS = 60_000;
export const MAX_BACKOFF_MS = 24 * 60 * 60_000;
export const BACKOFF_GROWTH_FACTOR = 2;

export type AlertStatus = 'executable' | 'temporarily_disabled' | 'disabled';

export function permanentlyDisabled(hook: SimHook): boolean {
  return hook.recentFailures > PERMANENTLY_DISABLED_FAILURE_THRESHOLD;
}

export function temporarilyDisabled(hook: SimHook, now: number): boolean {
  if (hook.recentFailures <= FAILURE_THRESHOLD || permanentlyDisabled(hook)) return false;
  return hook.disabledUntil !== null && hook.disabledUntil >= now;
}

export function executable(hook: SimHook, now: number): boolean {
  return !permanentlyDisabled(hook) && !temporarilyDisabled(hook, now);
}

export function alertStatus(hook: SimHook, now: number): AlertStatus {
  if (permanentlyDisabled(hook)) return 'disabled';
  if (temporarilyDisabled(hook, now)) return 'temporarily_disabled';
  return 'executable';
}

function nextBackoffMs(backoffCount: number): number {
  return Math.min(
    MAX_BACKOFF_MS,
    Math.max(INITIAL_BACKOFF_MS, INITIAL_BACKOFF_MS * BACKOFF_GROWTH_FACTOR ** backoffCount),
  );
}

/** `backoff!`: one more failure. */
export function recordFailure(hook: SimHook, now: number): void {
  if (permanentlyDisabled(hook)) return;
  if (hook.recentFailures >= FAILURE_THRESHOLD) {
    hook.disabledUntil = now + nextBackoffMs(hook.backoffCount);
    hook.backoffCount += 1;
  }
  hook.recentFailures += 1;
}

/** `enable!`: a success (or a manual re-enable). */
export function recordSuccess(hook: SimHook): void {
  hook.recentFailures = 0;
  hook.backoffCount = 0;
  hook.disabledUntil = null;
}
