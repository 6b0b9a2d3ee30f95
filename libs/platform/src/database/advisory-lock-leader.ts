import { Client } from 'pg';

import { jitteredBackoff, sleep, withTimeout } from '@testkase/util';

import type { Logger } from '../telemetry/logger';

/** What one round of leader work asks for next. */
export type RoundResult = 'idle' | 'again' | 'backoff';

export interface LeaderWork {
  /** Once leadership is won, on the leader's own connection (e.g. `LISTEN`). */
  onLeading?(client: Client): Promise<void>;
  /**
   * One round of work on the leader's connection. `idle`: wait for {@link AdvisoryLockLeader.wake}
   * or the poll interval; `again`: run another round now; `backoff`: wait longer after each failure.
   */
  round(client: Client): Promise<RoundResult>;
}

export interface LeaderSettings {
  databaseUrl: string;
  /** Names the lock (hashed with `hashtext`); every replica doing the same job uses the same key. */
  lockKey: string;
  applicationName: string;
  pollIntervalMs: number;
}

/**
 * Runs a periodic job on exactly one replica: the holder of a session-level Postgres advisory lock
 * on a dedicated connection. The others stand by, retrying the lock every poll interval, and take
 * over as soon as the leader's session ends (crash, network loss, shutdown).
 */
export class AdvisoryLockLeader {
  private stopped = false;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private client?: Client;
  private wakeUp?: () => void;
  private pendingWake = false;
  private leading = false;

  constructor(
    private readonly settings: LeaderSettings,
    private readonly work: LeaderWork,
    private readonly logger: Logger,
    private readonly onLeadershipChange: (leading: boolean) => void = () => undefined,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** The leader's connection, while leading (for read-only side queries such as metrics). */
  get connection(): Client | undefined {
    return this.leading ? this.client : undefined;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Run a round now instead of at the next poll (new rows, NATS back, a NOTIFY). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wakeUp?.();
    await withTimeout(this.loop, 3_000);
    await this.client?.end().catch(() => undefined);
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, this.abort.signal).catch(() => undefined);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.leadWhilePossible();
        attempt = 0;
      } catch (error) {
        if (this.stopped) break;
        attempt += 1;
        this.logger.warn({ err: error, job: this.settings.lockKey }, 'leader lost its database connection');
      } finally {
        this.setLeading(false);
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
      }
      if (!this.stopped) await this.pause(jitteredBackoff(attempt, 250, 5_000, 250));
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.onLeadershipChange(leading);
  }

  private async leadWhilePossible(): Promise<void> {
    const client = new Client({
      connectionString: this.settings.databaseUrl,
      application_name: this.settings.applicationName,
      connectionTimeoutMillis: 5_000,
    });
    this.client = client;
    let connectionError: Error | undefined;
    client.on('error', (error) => {
      connectionError = error;
      this.wakeUp?.();
    });
    await client.connect();
    while (!this.stopped && !this.leading) {
      if (connectionError) throw connectionError;
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [this.settings.lockKey],
      );
      if (rows[0]?.locked) {
        await this.work.onLeading?.(client);
        this.setLeading(true);
        this.logger.info({ job: this.settings.lockKey }, 'leading');
      } else {
        await this.waitForWake();
      }
    }
    let failures = 0;
    while (!this.stopped) {
      if (connectionError) throw connectionError;
      this.pendingWake = false;
      const next = await this.work.round(client);
      failures = next === 'backoff' ? failures + 1 : 0;
      if (next === 'backoff') await this.pause(jitteredBackoff(failures, 250, 5_000, 100));
      else if (next === 'idle' && !this.pendingWake) await this.waitForWake();
    }
  }

  private waitForWake(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.settings.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
