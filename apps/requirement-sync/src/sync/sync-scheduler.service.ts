import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import {
  ConnectionJobScheduler,
  ConnectionProjection,
  GitlabAccess,
  schedulerSettingsOf,
  sweepScheduleOf,
  type ConnectionJobs,
  type DueJob,
  type JobLease,
} from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import type { ConnectionRecord } from '../connections/connection.record';
import { ConnectionRepository, LOCK_NAMESPACE, type SyncJobKind } from '../connections/connection.repository';
import { SyncMetrics } from '../metrics/sync.metrics';
import { BackfillRunner } from './backfill.runner';
import { DeletionCheckRunner } from './deletion-check.runner';
import { HeldIssuesRunner } from './held-issues.runner';
import { SweepRunner } from './sweep.runner';

/** GitLab will not let this token read the project: retrying soon will not help. */
const PERMANENT_CODES = new Set([
  'PROJECT_NOT_FOUND',
  'INSUFFICIENT_SCOPE',
  'INSUFFICIENT_ROLE',
  'URL_NOT_ALLOWED',
]);

/**
 * Backfills and sweeps, run by the consumer kit's per-connection scheduler: once across all
 * replicas, retried with backoff, a refused token reported and left until it changes. A backfill
 * GitLab will never allow (no such project, too little access) is recorded as failed.
 */
@Injectable()
export class SyncScheduler
  implements ConnectionJobs<SyncJobKind>, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly scheduler: ConnectionJobScheduler<SyncJobKind>;

  constructor(
    dataSource: DataSource,
    access: GitlabAccess,
    private readonly projection: ConnectionProjection,
    private readonly connections: ConnectionRepository,
    private readonly backfill: BackfillRunner,
    private readonly sweeps: SweepRunner,
    private readonly held: HeldIssuesRunner,
    private readonly deletions: DeletionCheckRunner,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.scheduler = new ConnectionJobScheduler(
      'requirement-sync',
      dataSource,
      this,
      schedulerSettingsOf(config, LOCK_NAMESPACE.job),
      access,
      logger,
    );
  }

  onApplicationBootstrap(): void {
    this.scheduler.start();
  }

  /** Looks for work now (after a connect, a resync request, or a finished job). */
  wake(): void {
    this.scheduler.wake();
  }

  due(tx: EntityManager, connectionId?: string): Promise<Array<DueJob<SyncJobKind>>> {
    const schedule = {
      ...sweepScheduleOf(this.config),
      pollNoHookMs: this.config.POLL_INTERVAL_NO_HOOK,
      deletionCheckMs: this.config.DELETION_CHECK_INTERVAL,
    };
    return this.connections.due(tx, schedule, connectionId);
  }

  async run(lease: JobLease, { connectionId, job }: DueJob<SyncJobKind>, signal: AbortSignal): Promise<void> {
    const connection = await lease.transaction((tx) =>
      this.projection.find<ConnectionRecord>(tx, connectionId),
    );
    if (!connection || connection.state !== 'active') return;
    switch (job) {
      case 'backfill':
        return this.backfill.run(lease, connection, signal);
      case 'held':
        return this.held.run(lease, connection, signal);
      case 'deletions':
        return this.deletions.run(lease, connection, signal);
      case 'full':
      case 'incremental':
        return this.sweeps.run(lease, connection, job, signal);
    }
  }

  async onFailure(
    lease: JobLease,
    { connectionId, job }: DueJob<SyncJobKind>,
    error: unknown,
  ): Promise<void> {
    if (isAppError(error)) this.metrics.gitlabErrors.inc({ code: error.code });
    if (job === 'full' || job === 'incremental')
      this.metrics.reconciliations.inc({ kind: job, result: 'failed' });
    if (job === 'deletions') this.metrics.deletionChecks.inc({ result: 'failed' });
    if (job !== 'backfill') return;
    if (!isAppError(error) || !PERMANENT_CODES.has(error.code)) return;
    const connection = await lease.transaction((tx) =>
      this.projection.find<ConnectionRecord>(tx, connectionId),
    );
    if (connection) await this.backfill.fail(lease, connection, `${error.code}: ${error.message}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}
