import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError, jitteredBackoff, withTimeout } from '@testkase/util';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { ConnectionRepository, type SyncJobKind } from '../connections/connection.repository';
import { GitlabAccess, isAuthFailure } from '../connections/gitlab-access.service';
import { SyncMetrics } from '../metrics/sync.metrics';
import { BackfillRunner } from './backfill.runner';
import { JobLease } from './job-lease';
import { SweepRunner } from './sweep.runner';

/** GitLab will not let this token read the project: retrying soon will not help. */
const PERMANENT_CODES = new Set([
  'PROJECT_NOT_FOUND',
  'INSUFFICIENT_SCOPE',
  'INSUFFICIENT_ROLE',
  'URL_NOT_ALLOWED',
]);

/**
 * Runs backfills and sweeps. Every replica looks for due work each tick; a job runs only where
 * its connection's {@link JobLease} could be taken, so each runs once across all replicas. A
 * failed job is retried with backoff; a refused token is reported and left until it changes.
 */
@Injectable()
export class SyncScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly running = new Map<string, Promise<void>>();
  private readonly backoff = new Map<string, { until: number; failures: number }>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionRepository,
    private readonly backfill: BackfillRunner,
    private readonly sweeps: SweepRunner,
    private readonly access: GitlabAccess,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(this.config.SYNC_SCHEDULER_TICK);
  }

  /** Looks for work now (after a connect, a resync request, or a finished job). */
  wake(): void {
    this.schedule(0);
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
      if (this.dataSource.isInitialized && this.running.size < this.config.SYNC_JOB_CONCURRENCY) {
        const due = await this.connections.due(this.dataSource.manager, this.dueSettings());
        const now = Date.now();
        for (const { connectionId } of due) {
          if (this.running.size >= this.config.SYNC_JOB_CONCURRENCY) break;
          if (this.running.has(connectionId) || (this.backoff.get(connectionId)?.until ?? 0) > now) continue;
          const job = this.runJob(connectionId).finally(() => {
            this.running.delete(connectionId);
            this.wake();
          });
          this.running.set(connectionId, job);
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'looking for due sync jobs failed');
    } finally {
      this.ticking = false;
      this.schedule(this.config.SYNC_SCHEDULER_TICK);
    }
  }

  private dueSettings() {
    return {
      reconcileMs: this.config.RECONCILE_INTERVAL,
      reconcileManualMs: this.config.RECONCILE_INTERVAL_MANUAL,
      fullSweepMs: this.config.FULL_SWEEP_INTERVAL,
      retryMs: this.config.AUTH_RETRY_INTERVAL,
    };
  }

  private async runJob(connectionId: string): Promise<void> {
    let lease: JobLease | null = null;
    let job: SyncJobKind | undefined;
    try {
      lease = await JobLease.tryAcquire(this.dataSource, connectionId);
      if (!lease) return; // another replica runs it
      // Under the lease: another replica may have just done it.
      const activeLease = lease;
      job = (await lease.transaction((tx) => this.connections.due(tx, this.dueSettings(), connectionId)))[0]
        ?.job;
      if (!job) return;
      const connection = await lease.transaction((tx) => this.connections.find(tx, connectionId));
      if (!connection || connection.state !== 'active') return;
      try {
        if (job === 'backfill') await this.backfill.run(activeLease, connection, this.abort.signal);
        else await this.sweeps.run(activeLease, connection, job, this.abort.signal);
      } catch (error) {
        if (job === 'backfill' && isAppError(error) && PERMANENT_CODES.has(error.code)) {
          await this.backfill.fail(activeLease, connection, `${error.code}: ${error.message}`);
        }
        throw error;
      }
      this.backoff.delete(connectionId);
    } catch (error) {
      await this.onJobFailure(connectionId, job, error);
    } finally {
      await lease?.release().catch(() => undefined);
    }
  }

  private async onJobFailure(
    connectionId: string,
    job: SyncJobKind | undefined,
    error: unknown,
  ): Promise<void> {
    if (isAppError(error)) this.metrics.gitlabErrors.inc({ code: error.code });
    if (job && job !== 'backfill') this.metrics.reconciliations.inc({ kind: job, result: 'failed' });
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
    this.backoff.set(connectionId, { until: Date.now() + delay, failures });
    this.logger.warn({ err: error, connectionId, job, retryInMs: delay }, 'sync job failed');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await withTimeout(Promise.allSettled([...this.running.values()]), 5_000);
  }
}
