import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, GitlabAccess, LaneJobs, LaneSignals } from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import type { RelayConnectionRecord } from '../connections/connection.record';
import { LOCK_NAMESPACE, SweepStateRepository } from '../connections/sweep-state.repository';
import { RelayMetrics } from '../metrics/relay.metrics';
import { CommentLane } from './comment-lane';
import { Reconciler } from './reconciler';

/** comment-relay's per-connection jobs (the consumer kit's LaneJobs): the lane (comment writes), and the sweeps of notes. */
@Injectable()
export class RelayJobs extends LaneJobs<RelayConnectionRecord> {
  constructor(
    dataSource: DataSource,
    access: GitlabAccess,
    signals: LaneSignals,
    connections: ConnectionProjection,
    state: SweepStateRepository,
    lane: CommentLane,
    reconciler: Reconciler,
    metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) config: CommentRelayConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      service: 'comment-relay',
      dataSource,
      access,
      signals,
      connections,
      state,
      runners: { lane, reconciler },
      config,
      lockNamespace: LOCK_NAMESPACE.job,
      logger,
      onFailure: (job) => {
        if (job !== 'lane') metrics.reconciliations.inc({ kind: job, result: 'failed' });
      },
    });
  }
}
