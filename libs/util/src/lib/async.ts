import { setTimeout as delay } from 'node:timers/promises';

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : undefined);

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a random delay in [0, min(cap, base * 2^attempt)], never below `floor`.
 */
export function jitteredBackoff(attempt: number, baseMs = 200, capMs = 30_000, floorMs = 0): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.max(floorMs, Math.round(Math.random() * ceiling));
}

/** Resolves to `fallback` when `promise` takes longer than `ms`; the timer never outlives the race. */
export function withTimeout<T, F = undefined>(
  promise: Promise<T> | undefined,
  ms: number,
  fallback?: F,
): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    (promise ?? Promise.resolve(undefined as T)).finally(() => clearTimeout(timer)),
    new Promise<F>((resolve) => {
      timer = setTimeout(() => resolve(fallback as F), ms);
    }),
  ]);
}
