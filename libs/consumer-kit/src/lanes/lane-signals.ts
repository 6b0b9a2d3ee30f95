import { Injectable } from '@nestjs/common';

/**
 * In-process signals between the HTTP/gRPC side and the lanes: "there is work for this connection"
 * (wakes its lane if it runs here, else the scheduler) and "this item's attempt finished" (wakes
 * the requests waiting for it). Requests also poll the database, so a lane on another replica is
 * seen too, only a little later. Each app provides one instance.
 */
@Injectable()
export class LaneSignals {
  private readonly lanes = new Map<string, () => void>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private wakeScheduler: () => void = () => undefined;

  /** The scheduler's wake (set once by the jobs service). */
  onNoLane(wake: () => void): void {
    this.wakeScheduler = wake;
  }

  /** A lane started (or stopped, with `wake` undefined) for a connection on this replica. */
  laneRunning(connectionId: string, wake: (() => void) | undefined): void {
    if (wake) this.lanes.set(connectionId, wake);
    else this.lanes.delete(connectionId);
  }

  /** There is new work for a connection. */
  work(connectionId: string): void {
    const lane = this.lanes.get(connectionId);
    if (lane) lane();
    else this.wakeScheduler();
  }

  /** An attempt on an item (a defect, a comment) finished, successfully or not. */
  settled(itemId: string): void {
    const waiting = this.waiters.get(itemId);
    if (!waiting) return;
    this.waiters.delete(itemId);
    for (const resolve of waiting) resolve();
  }

  /**
   * Resolves when an attempt on the item finishes here, or after `pollMs`, whichever is first;
   * callers loop on it until the deadline, reading the row each time.
   */
  next(itemId: string, pollMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.waiters.get(itemId) ?? new Set<() => void>();
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        if (waiting.size === 0 && this.waiters.get(itemId) === waiting) this.waiters.delete(itemId);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      waiting.add(done);
      this.waiters.set(itemId, waiting);
    });
  }
}
