import { Inject, Injectable } from '@nestjs/common';

import { GitlabAccess, projectContextOf, type ConnectionRecord, type JobLease } from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectRecord } from '../defects/defect.record';
import { DefectRepository } from '../defects/defect.repository';
import { IssuePusher, TokenRefused } from './issue-pusher';
import { IssueWriter } from './issue-writer';
import type { LaneContext } from './lane-context';
import { LaneSignals } from './lane-signals';

/** How often a lane looks at the database for work another replica queued (its own is signalled). */
const POLL_MS = 100;

/**
 * A connection's lane: the one place that writes to GitLab for the connection's defects, run by
 * one replica at a time under the connection's job lease. It pushes queued defects, writes the
 * fields TestKase changed and retries what failed, up to LANE_CONCURRENCY at once (different
 * defects; one defect is never worked on twice at once), through the token's shared rate limiter,
 * and stays a little (LANE_LINGER) for more work before it gives the lease back. Because one
 * replica creates a connection's issues, the client-side issue-creation limit holds across replicas.
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
    const { client, credentials } = await this.access.accessFor(connectionId);
    const lane: LaneContext = {
      lease,
      project: projectContextOf(connection),
      gitlab: client,
      tokenUserId: credentials.tokenUserId,
    };
    const inFlight = new Map<string, Promise<void>>();
    let refused: TokenRefused | null = null;
    let wake: () => void = () => undefined;
    const woken = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    this.signals.laneRunning(connectionId, () => wake());
    let idleSince = Date.now();
    try {
      while (!signal.aborted && !refused) {
        const free = this.config.LANE_CONCURRENCY - inFlight.size;
        const due =
          free > 0
            ? await lease.transaction((tx) => this.defects.due(tx, connectionId, free, [...inFlight.keys()]))
            : [];
        for (const record of due) {
          const work = this.work(lane, record)
            .catch((error: unknown) => {
              if (error instanceof TokenRefused) refused = error;
              else
                this.logger.error(
                  { err: error, connectionId, defectId: record.defect_id },
                  'lane work failed',
                );
            })
            .finally(() => {
              inFlight.delete(record.id);
              this.signals.settled(record.id);
              wake();
            });
          inFlight.set(record.id, work);
        }
        if (inFlight.size > 0 || due.length > 0) idleSince = Date.now();
        else if (Date.now() - idleSince >= this.config.LANE_LINGER) break;
        await woken();
      }
      await Promise.allSettled(inFlight.values());
    } finally {
      this.signals.laneRunning(connectionId, undefined);
    }
    // The scheduler reports a refused token (and the connection's status follows).
    if (refused) throw (refused as TokenRefused).error;
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
