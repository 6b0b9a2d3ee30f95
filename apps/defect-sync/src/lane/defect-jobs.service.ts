import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, GitlabAccess, LaneJobs, LaneSignals } from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectConnectionRecord } from '../connections/connection.record';
import { LOCK_NAMESPACE, SweepStateRepository } from '../connections/sweep-state.repository';
import { DefectMetrics } from '../metrics/defect.metrics';
import { DefectLane } from './defect-lane';
import { Reconciler } from './reconciler';

/** defect-sync's per-connection jobs (the consumer kit's LaneJobs): the lane, and the incremental and full sweeps. */
@Injectable()
export class DefectJobs extends LaneJobs<DefectConnectionRecord> {
  constructor(
    dataSource: DataSource,
    access: GitlabAccess,
    signals: LaneSignals,
    connections: ConnectionProjection,
    state: SweepStateRepository,
    lane: DefectLane,
    reconciler: Reconciler,
    metrics: DefectMetrics,
    @Inject(DEFECT_SYNC_CONFIG) config: DefectSyncConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({
      service: 'defect-sync',
      dataSource,
      access,
      signals,
      connections,
      state,
      runners: { lane, reconciler },
      config,
      lockNamespace: LOCK_NAMESPACE.job,
      logger,
      onFailure: (job, error) => {
        if (job !== 'lane') metrics.reconciliations.inc({ kind: job, result: 'failed' });
        if (isAppError(error)) metrics.writeFailures.inc({ code: error.code });
      },
    });
  }
}
