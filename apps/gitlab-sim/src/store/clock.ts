/**
 * The simulator's notion of "now". Everything time-based (timestamps, token expiry, rate-limit
 * windows, hook back-off) reads it, so tests can move time forward instead of waiting.
 */
export interface Clock {
  now(): number;
}

/** Wall-clock time plus an offset that the control API can advance. */
export class AdjustableClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }

  get offset(): number {
    return this.offsetMs;
  }
}
