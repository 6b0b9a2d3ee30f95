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

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import type { RelayConnectionRecord } from '../connections/connection.record';
import {
  LOCK_NAMESPACE,
  SweepStateRepository,
  type RelayJobKind,
} from '../connections/sweep-state.repository';
import { RelayMetrics } from '../metrics/relay.metrics';
import { CommentLane } from './comment-lane';
import { Reconciler } from './reconciler';

/**
 * comment-relay's per-connection jobs on the consumer kit's scheduler (once across replicas, retried
 * with backoff, a refused token reported): the lane (comment writes), and the incremental and full sweeps of notes.
 */
@Injectable()
export class RelayJobs
  implements ConnectionJobs<RelayJobKind>, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly scheduler: ConnectionJobScheduler<RelayJobKind>;

  constructor(
    dataSource: DataSource,
    access: GitlabAccess,
    signals: LaneSignals,
    private readonly connections: ConnectionProjection,
    private readonly state: SweepStateRepository,
    private readonly lane: CommentLane,
    private readonly reconciler: Reconciler,
    private readonly metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.scheduler = new ConnectionJobScheduler(
      'comment-relay',
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

  due(tx: EntityManager, connectionId?: string): Promise<Array<DueJob<RelayJobKind>>> {
    return this.state.due(tx, sweepScheduleOf(this.config), connectionId);
  }

  async run(
    lease: JobLease,
    { connectionId, job }: DueJob<RelayJobKind>,
    signal: AbortSignal,
  ): Promise<void> {
    const connection = await lease.transaction((tx) =>
      this.connections.find<RelayConnectionRecord>(tx, connectionId),
    );
    if (!connection || connection.state !== 'active') return;
    if (job === 'lane') await this.lane.run(lease, connection, signal);
    else await this.reconciler.run(lease, connection, job, signal);
  }

  async onFailure(_lease: JobLease, { job }: DueJob<RelayJobKind>): Promise<void> {
    if (job !== 'lane') this.metrics.reconciliations.inc({ kind: job, result: 'failed' });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}
