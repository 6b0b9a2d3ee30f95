import { connect } from 'nats';

import { sleep } from './sync-stack';

/** Runs `count` tasks with at most `concurrency` at once (the first failure rejects). */
export async function pool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let index = next++; index < count; index = next++) await task(index);
    }),
  );
}

/** `promise`, or an error naming `what` once `ms` have passed without an answer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined; after
 * `timeoutMs`, fails with `what` and the last progress `describe` gives (e.g. "212 of 300 notes").
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  options: { intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const progress = options.describe?.();
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${progress ? ` (${progress})` : ''}${cause}`,
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** The most events (epoch ms, sorted) inside any window of `windowMs`, wherever it starts. */
export function busiestWindow(sortedTimes: readonly number[], windowMs = 60_000): number {
  let busiest = 0;
  for (let first = 0, last = 0; first < sortedTimes.length; first += 1) {
    while (last < sortedTimes.length && sortedTimes[last]! < sortedTimes[first]! + windowMs) last += 1;
    busiest = Math.max(busiest, last - first);
  }
  return busiest;
}

/** Events per window aligned to the clock (how gitlab-sim counts its limits), oldest first. */
export function clockWindows(sortedTimes: readonly number[], windowMs = 60_000): number[] {
  const counts = new Map<number, number>();
  for (const at of sortedTimes) {
    const start = Math.floor(at / windowMs) * windowMs;
    counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([, count]) => count);
}

/** CPU seconds per part between two cpuSnapshot()s. */
export const cpuDelta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((key) => [key, (after[key] ?? 0) - (before[key] ?? 0)]));

/** "part 1.23 ms, …": CPU per unit of work, parts that used none left out. */
export const cpuPer = (cpu: Record<string, number>, count: number): string =>
  Object.entries(cpu)
    .filter(([, seconds]) => seconds > 0)
    .map(([part, seconds]) => `${part} ${((seconds / count) * 1000).toFixed(2)} ms`)
    .join(', ');

/** "200×180, 202×20". */
export const statusLine = (statuses: ReadonlyMap<number, number>): string =>
  [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}×${count}`)
    .join(', ');

export const countStatus = (statuses: Map<number, number>, status: number): void => {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
};

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence of changes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Deletes the JetStream streams and KV buckets of one environment prefix (`<prefix>_*`,
 * `KV_<prefix>_*`) from the shared NATS server, once the stack using them has stopped. Best effort.
 */
export async function deleteNatsPrefix(natsUrl: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: natsUrl, name: `bench-cleanup-${prefix}` });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) names.push(name);
    }
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
    return names.length;
  } finally {
    await nc.close().catch(() => undefined);
  }
}
