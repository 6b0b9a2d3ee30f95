import type { DataSource, EntityManager } from 'typeorm';

import type { Logger } from '@testkase/platform';
import { isAppError, jitteredBackoff, withTimeout } from '@testkase/util';

import type { GitlabConsumerConfig } from '../config/gitlab-consumer.config';
import type { GitlabAccess } from '../gitlab/gitlab-access.service';
import { isAuthFailure } from '../gitlab/gitlab-access.service';
import { JobLease } from './job-lease';

/** A job of one connection that is due now. */
export interface DueJob<Job extends string> {
  readonly connectionId: string;
  readonly job: Job;
}

/** The per-connection jobs of an app: what is due, and how to run it. */
export interface ConnectionJobs<Job extends string> {
  /** Jobs due now, most urgent first; with `connectionId`, only that connection's (re-checked under its lease). */
  due(tx: EntityManager, connectionId?: string): Promise<Array<DueJob<Job>>>;
  /** Runs the job under its lease; `signal` aborts at shutdown. */
  run(lease: JobLease, job: DueJob<Job>, signal: AbortSignal): Promise<void>;
  /** A job failed (after the scheduler reported a refused token, if it was one): metrics, bookkeeping. */
  onFailure?(lease: JobLease, job: DueJob<Job>, error: unknown): Promise<void>;
}

export interface SchedulerSettings {
  /** How often each replica looks for due jobs. */
  readonly tickMs: number;
  /** Jobs one replica runs at once (each holds one database connection). */
  readonly concurrency: number;
  /** Advisory-lock namespace of the leases (per service). */
  readonly lockNamespace: number;
}

/** How long a connection whose lease another replica holds is left alone. */
const HELD_ELSEWHERE_MS = 1_000;

/**
 * Runs per-connection jobs on every replica: each looks for due work every tick, and a job runs only
 * where its connection's {@link JobLease} could be taken, so each runs once across all replicas. A
 * failed job is retried with a jittered backoff (at least GitLab's Retry-After, a minute when the
 * connection is gone); a refused token is reported once, and its connection's jobs wait for the app's
 * `due` to offer them again (after AUTH_RETRY_INTERVAL or a new token).
 */
export class ConnectionJobScheduler<Job extends string> {
  private readonly running = new Map<string, Promise<void>>();
  private readonly backoff = new Map<string, { until: number; failures: number }>();
  /**
   * Connections whose lease another replica held when this one tried, until when they are left
   * alone: else a replica whose slots are all spent on such jobs every tick never reaches the due
   * jobs no one runs (with SYNC_JOB_CONCURRENCY=1, one held connection starves all the others).
   */
  private readonly heldElsewhere = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly dataSource: DataSource,
    private readonly jobs: ConnectionJobs<Job>,
    private readonly settings: SchedulerSettings,
    private readonly access: GitlabAccess,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.settings.tickMs);
  }

  /** Looks for work now (after a connect, a request from TestKase, or a finished job). */
  wake(): void {
    this.schedule(0);
  }

  /** Connections whose job runs on this replica now. */
  get active(): number {
    return this.running.size;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (this.dataSource.isInitialized && this.running.size < this.settings.concurrency) {
        const due = await this.jobs.due(this.dataSource.manager);
        const now = Date.now();
        for (const [connectionId, until] of this.heldElsewhere)
          if (until <= now) this.heldElsewhere.delete(connectionId);
        for (const job of due) {
          if (this.running.size >= this.settings.concurrency) break;
          const { connectionId } = job;
          if (this.running.has(connectionId) || (this.backoff.get(connectionId)?.until ?? 0) > now) continue;
          if (this.heldElsewhere.has(connectionId)) continue;
          const run = this.runJob(connectionId).finally(() => {
            this.running.delete(connectionId);
            this.wake();
          });
          this.running.set(connectionId, run);
        }
      }
    } catch (error) {
      this.logger.warn({ err: error, scheduler: this.name }, 'looking for due jobs failed');
    } finally {
      this.ticking = false;
      this.schedule(this.settings.tickMs);
    }
  }

  private async runJob(connectionId: string): Promise<void> {
    let lease: JobLease | null = null;
    let job: DueJob<Job> | undefined;
    try {
      lease = await JobLease.tryAcquire(this.dataSource, this.settings.lockNamespace, connectionId);
      if (!lease) {
        // Another replica runs it: look at other due jobs for a while.
        this.heldElsewhere.set(connectionId, Date.now() + Math.max(HELD_ELSEWHERE_MS, this.settings.tickMs));
        return;
      }
      // Under the lease: another replica may have just done it.
      job = (await lease.transaction((tx) => this.jobs.due(tx, connectionId)))[0];
      if (!job) return;
      await this.jobs.run(lease, job, this.abort.signal);
      this.backoff.delete(connectionId);
    } catch (error) {
      await this.onJobFailure(lease, connectionId, job, error);
    } finally {
      await lease?.release().catch(() => undefined);
    }
  }

  private async onJobFailure(
    lease: JobLease | null,
    connectionId: string,
    job: DueJob<Job> | undefined,
    error: unknown,
  ): Promise<void> {
    const failures = (this.backoff.get(connectionId)?.failures ?? 0) + 1;
    let delay = jitteredBackoff(failures, 1_000, 5 * 60_000, 500);
    if (isAuthFailure(error)) {
      await this.access.reportAuthFailure(connectionId, error).catch((reportError: unknown) => {
        this.logger.error({ err: reportError, connectionId }, 'could not record the token refusal');
      });
    } else if (isAppError(error) && error.code === 'NOT_CONNECTED') {
      delay = Math.max(delay, 60_000);
    } else if (isAppError(error) && error.retryAfterMs !== undefined) {
      delay = Math.max(delay, error.retryAfterMs);
    }
    if (lease && job && this.jobs.onFailure) {
      await this.jobs.onFailure(lease, job, error).catch((hookError: unknown) => {
        this.logger.error({ err: hookError, connectionId }, 'recording a failed job failed');
      });
    }
    this.backoff.set(connectionId, { until: Date.now() + delay, failures });
    this.logger.warn(
      { err: error, scheduler: this.name, connectionId, job: job?.job, retryInMs: delay },
      'job failed',
    );
  }

  /** Stops looking for work and waits (up to 5 s) for the jobs in flight, which see `signal` aborted. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await withTimeout(Promise.allSettled([...this.running.values()]), 5_000);
  }
}

/** When a connection's sweeps are due, from the kit's configuration (the apps' `due` queries take it). */
export interface SweepSchedule {
  readonly reconcileMs: number;
  readonly reconcileManualMs: number;
  readonly fullSweepMs: number;
  /** After GitLab refused a token, its connection's jobs wait this long. */
  readonly retryMs: number;
}

export const sweepScheduleOf = (
  config: Pick<
    GitlabConsumerConfig,
    'RECONCILE_INTERVAL' | 'RECONCILE_INTERVAL_MANUAL' | 'FULL_SWEEP_INTERVAL' | 'AUTH_RETRY_INTERVAL'
  >,
): SweepSchedule => ({
  reconcileMs: config.RECONCILE_INTERVAL,
  reconcileManualMs: config.RECONCILE_INTERVAL_MANUAL,
  fullSweepMs: config.FULL_SWEEP_INTERVAL,
  retryMs: config.AUTH_RETRY_INTERVAL,
});

export const schedulerSettingsOf = (
  config: Pick<GitlabConsumerConfig, 'SYNC_SCHEDULER_TICK' | 'SYNC_JOB_CONCURRENCY'>,
  lockNamespace: number,
): SchedulerSettings => ({
  tickMs: config.SYNC_SCHEDULER_TICK,
  concurrency: config.SYNC_JOB_CONCURRENCY,
  lockNamespace,
});
