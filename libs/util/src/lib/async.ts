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
