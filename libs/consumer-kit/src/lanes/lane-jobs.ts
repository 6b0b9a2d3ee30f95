import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { Logger } from '@testkase/platform';

import type { GitlabConsumerConfig } from '../config/gitlab-consumer.config';
import type { ConnectionProjection } from '../connections/connection-projection';
import type { ConnectionRecord } from '../connections/connection.record';
import type { GitlabAccess } from '../gitlab/gitlab-access.service';
import {
  ConnectionJobScheduler,
  schedulerSettingsOf,
  sweepScheduleOf,
  type ConnectionJobs,
  type DueJob,
} from '../jobs/connection-job.scheduler';
import type { JobLease } from '../jobs/job-lease';
import type { LaneJobKind, SweepStateStore } from '../jobs/sweep-state.store';
import type { LaneSignals } from './lane-signals';

/** How often a running lane looks whether its connection was paused meanwhile. */
const PAUSE_CHECK_MS = 1_000;

/** The app's two job runners: its lane and its reconciliation. */
export interface LaneJobRunners<R extends ConnectionRecord> {
  readonly lane: { run(lease: JobLease, connection: R, signal: AbortSignal): Promise<void> };
  readonly reconciler: {
    run(lease: JobLease, connection: R, kind: 'incremental' | 'full', signal: AbortSignal): Promise<void>;
  };
}

export interface LaneJobsOptions<R extends ConnectionRecord> {
  readonly service: string;
  readonly dataSource: DataSource;
  readonly access: GitlabAccess;
  readonly signals: LaneSignals;
  readonly connections: ConnectionProjection;
  readonly state: SweepStateStore;
  readonly runners: LaneJobRunners<R>;
  readonly config: GitlabConsumerConfig;
  /** The lock namespace of the app's job leases. */
  readonly lockNamespace: number;
  readonly logger: Logger;
  /** After a job failed for good this time (metrics). */
  readonly onFailure?: (job: LaneJobKind, error: unknown) => void;
}

/**
 * The per-connection jobs of an app with a lane (defect-sync, comment-relay) on the kit's scheduler:
 * once across replicas, retried with backoff, a refused token reported. Jobs: the lane (woken by
 * LaneSignals when work is queued here), and the incremental and full sweeps, due by the app's
 * SweepStateStore. An app provides a subclass that passes its own pieces.
 */
export class LaneJobs<R extends ConnectionRecord>
  implements ConnectionJobs<LaneJobKind>, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly scheduler: ConnectionJobScheduler<LaneJobKind>;

  constructor(private readonly options: LaneJobsOptions<R>) {
    this.scheduler = new ConnectionJobScheduler(
      options.service,
      options.dataSource,
      this,
      schedulerSettingsOf(options.config, options.lockNamespace),
      options.access,
      options.logger,
    );
    options.signals.onNoLane(() => this.scheduler.wake());
  }

  onApplicationBootstrap(): void {
    this.scheduler.start();
  }

  wake(): void {
    this.scheduler.wake();
  }

  due(tx: EntityManager, connectionId?: string): Promise<Array<DueJob<LaneJobKind>>> {
    return this.options.state.due(tx, sweepScheduleOf(this.options.config), connectionId);
  }

  async run(lease: JobLease, { connectionId, job }: DueJob<LaneJobKind>, signal: AbortSignal): Promise<void> {
    const connection = await lease.transaction((tx) => this.options.connections.find<R>(tx, connectionId));
    if (!connection || connection.state !== 'active' || connection.paused_at) return;
    if (job !== 'lane') return this.options.runners.reconciler.run(lease, connection, job, signal);
    // A pause while the lane runs ends it once the items in hand have settled (docs/ADMIN-API.md).
    const lane = new AbortController();
    const stop = () => lane.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    const watch = setInterval(() => {
      void this.options.connections
        .isPaused(this.options.dataSource.manager, connectionId)
        .then((paused) => {
          if (paused) lane.abort(new Error(`connection ${connectionId} paused`));
        })
        .catch(() => undefined);
    }, PAUSE_CHECK_MS);
    watch.unref();
    try {
      await this.options.runners.lane.run(lease, connection, lane.signal);
    } finally {
      clearInterval(watch);
      signal.removeEventListener('abort', stop);
    }
  }

  async onFailure(_lease: JobLease, { job }: DueJob<LaneJobKind>, error: unknown): Promise<void> {
    this.options.onFailure?.(job, error);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}
