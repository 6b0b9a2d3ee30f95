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
  LaneSignals,
  schedulerSettingsOf,
  sweepScheduleOf,
  type ConnectionJobs,
  type DueJob,
  type JobLease,
} from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectConnectionRecord } from '../connections/connection.record';
import {
  LOCK_NAMESPACE,
  SweepStateRepository,
  type DefectJobKind,
} from '../connections/sweep-state.repository';
import { DefectMetrics } from '../metrics/defect.metrics';
import { DefectLane } from './defect-lane';
import { Reconciler } from './reconciler';

/**
 * defect-sync's per-connection jobs on the consumer kit's scheduler (once across replicas, retried
 * with backoff, a refused token reported): the lane, and the incremental and full sweeps.
 */
@Injectable()
export class DefectJobs
  implements ConnectionJobs<DefectJobKind>, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly scheduler: ConnectionJobScheduler<DefectJobKind>;

  constructor(
    dataSource: DataSource,
    access: GitlabAccess,
    signals: LaneSignals,
    private readonly connections: ConnectionProjection,
    private readonly state: SweepStateRepository,
    private readonly lane: DefectLane,
    private readonly reconciler: Reconciler,
    private readonly metrics: DefectMetrics,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.scheduler = new ConnectionJobScheduler(
      'defect-sync',
      dataSource,
      this,
      schedulerSettingsOf(config, LOCK_NAMESPACE.job),
      access,
      logger,
    );
    signals.onNoLane(() => this.scheduler.wake());
  }

  onApplicationBootstrap(): void {
    this.scheduler.start();
  }

  wake(): void {
    this.scheduler.wake();
  }

  due(tx: EntityManager, connectionId?: string): Promise<Array<DueJob<DefectJobKind>>> {
    return this.state.due(tx, sweepScheduleOf(this.config), connectionId);
  }

  async run(
    lease: JobLease,
    { connectionId, job }: DueJob<DefectJobKind>,
    signal: AbortSignal,
  ): Promise<void> {
    const connection = await lease.transaction((tx) =>
      this.connections.find<DefectConnectionRecord>(tx, connectionId),
    );
    if (!connection || connection.state !== 'active') return;
    if (job === 'lane') await this.lane.run(lease, connection, signal);
    else await this.reconciler.run(lease, connection, job, signal);
  }

  async onFailure(_lease: JobLease, { job }: DueJob<DefectJobKind>, error: unknown): Promise<void> {
    if (job !== 'lane') this.metrics.reconciliations.inc({ kind: job, result: 'failed' });
    if (isAppError(error)) this.metrics.writeFailures.inc({ code: error.code });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}
