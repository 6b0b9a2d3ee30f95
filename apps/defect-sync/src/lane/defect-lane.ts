import { Inject, Injectable } from '@nestjs/common';

import {
  GitlabAccess,
  laneContextOf,
  LaneSignals,
  runLane,
  type ConnectionRecord,
  type JobLease,
} from '@testkase/consumer-kit';
import type { LaneContext } from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectRecord } from '../defects/defect.record';
import { DefectRepository } from '../defects/defect.repository';
import { IssuePusher } from './issue-pusher';
import { IssueWriter } from './issue-writer';

/**
 * defect-sync's lane (the consumer kit's runLane): pushes queued defects, writes the fields
 * TestKase changed and retries what failed, up to LANE_CONCURRENCY at once, through the token's
 * shared rate limiter. A refused token ends the lane (the scheduler reports it).
 */
@Injectable()
export class DefectLane {
  constructor(
    private readonly access: GitlabAccess,
    private readonly defects: DefectRepository,
    private readonly pusher: IssuePusher,
    private readonly writer: IssueWriter,
    private readonly signals: LaneSignals,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(lease: JobLease, connection: ConnectionRecord, signal: AbortSignal): Promise<void> {
    const connectionId = connection.connection_id;
    const lane = await laneContextOf(this.access, lease, connection);
    await runLane<DefectRecord>(
      {
        lease,
        signals: this.signals,
        logger: this.logger,
        concurrency: this.config.LANE_CONCURRENCY,
        lingerMs: this.config.LANE_LINGER,
        due: (tx, limit, busy) => this.defects.due(tx, connectionId, limit, busy),
        work: (record) => this.work(lane, record),
      },
      signal,
    );
  }

  private async work(lane: LaneContext, record: DefectRecord): Promise<void> {
    if (record.push_state === 'queued') {
      await this.pusher.push(lane, record);
      return;
    }
    if (record.push_state === 'created' && (record.dirty.length > 0 || record.pending_label !== null)) {
      await this.writer.write(lane, record);
      return;
    }
    // Nothing to do after all (another attempt finished it): clear the due mark.
    await lane.lease.transaction((tx) =>
      this.defects.update(tx, record.id, { next_attempt_at: null }, { where: 'next_attempt_at <= now()' }),
    );
  }
}
