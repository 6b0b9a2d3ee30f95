import { SpacedLimiter } from './spaced-limiter';

/** The send times of `count` requests all asked for at `start`, given the limiter's reservations. */
const sendTimes = (limiter: SpacedLimiter, count: number, start = 1_000_000): number[] =>
  Array.from({ length: count }, () => start + limiter.reserve(start));

/** The most send times inside any half-open window [t, t + windowMs). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; first < times.length; first += 1) {
    while (last < times.length && times[last]! < times[first]! + windowMs) last += 1;
    most = Math.max(most, last - first);
  }
  return most;
}

describe('SpacedLimiter', () => {
  it('never lets more than the limit into any window, wherever the window starts', () => {
    const times = sendTimes(new SpacedLimiter({ points: 200, durationSeconds: 60 }), 1_000);
    expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(200);
  });

  it('sustains at least 90 % of the limit over a long run', () => {
    const times = sendTimes(new SpacedLimiter({ points: 200, durationSeconds: 60 }), 1_000);
    const perMinute = ((times.length - 1) / (times.at(-1)! - times[0]!)) * 60_000;
    expect(perMinute).toBeGreaterThanOrEqual(180);
    expect(perMinute).toBeLessThanOrEqual(200);
  });

  it('lets a small burst go at once, then spaces the rest evenly', () => {
    const limiter = new SpacedLimiter({ points: 60, durationSeconds: 60 });
    const waits = Array.from({ length: 6 }, () => limiter.reserve(0));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThan(1_000);
    expect(waits[4]! - waits[3]!).toBeCloseTo(waits[5]! - waits[4]!, 6);
  });

  it('spaces a one-per-window limit by the whole window', () => {
    const limiter = new SpacedLimiter({ points: 1, durationSeconds: 1 });
    expect(limiter.reserve(0)).toBe(0);
    expect(limiter.reserve(0)).toBeGreaterThanOrEqual(1_000);
  });

  it('says how long a request would wait without taking a slot', () => {
    const limiter = new SpacedLimiter({ points: 2, durationSeconds: 1 });
    limiter.reserve(0);
    const expected = limiter.wouldWait(0);
    expect(expected).toBeGreaterThan(0);
    expect(limiter.wouldWait(0)).toBe(expected);
    expect(limiter.reserve(0)).toBe(expected);
  });
});
