import { Inject, Injectable } from '@nestjs/common';

import {
  GitlabAccess,
  laneContextOf,
  LaneSignals,
  runLane,
  type ConnectionRecord,
  type JobLease,
  type LaneContext,
} from '@testkase/consumer-kit';
import { LOGGER, type Logger } from '@testkase/platform';

import type { CommentRecord } from '../comments/comment.records';
import { CommentRepository } from '../comments/comment.repository';
import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import type { LinkCommentRecord } from '../links/link.records';
import { LinkRepository } from '../links/link.repository';
import { CommentWriter } from './comment.writer';
import { LinkCommentWriter } from './link-comment.writer';

type LaneItem =
  | { readonly id: string; readonly kind: 'link'; readonly row: LinkCommentRecord }
  | { readonly id: string; readonly kind: 'comment'; readonly row: CommentRecord };

/**
 * comment-relay's lane (the consumer kit's runLane): writes the due linked-test-cases comments and
 * TestKase comments of one connection, up to LANE_CONCURRENCY at once, through the token's shared
 * limiter (GitLab.com: 60 note creations a minute), so a burst waits in the database instead of
 * failing, and survives a restart.
 */
@Injectable()
export class CommentLane {
  constructor(
    private readonly access: GitlabAccess,
    private readonly links: LinkRepository,
    private readonly comments: CommentRepository,
    private readonly linkWriter: LinkCommentWriter,
    private readonly commentWriter: CommentWriter,
    private readonly signals: LaneSignals,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(lease: JobLease, connection: ConnectionRecord, signal: AbortSignal): Promise<void> {
    const connectionId = connection.connection_id;
    const lane = await laneContextOf(this.access, lease, connection);
    await runLane<LaneItem>(
      {
        lease,
        signals: this.signals,
        logger: this.logger,
        concurrency: this.config.LANE_CONCURRENCY,
        lingerMs: this.config.LANE_LINGER,
        due: async (tx, limit, busy) => {
          // TestKase comments first (someone is waiting for them), then the debounced link comments.
          const comments = await this.comments.due(tx, connectionId, limit, busy);
          const links =
            comments.length < limit
              ? await this.links.due(tx, connectionId, limit - comments.length, busy)
              : [];
          return [
            ...comments.map((row) => ({ id: row.id, kind: 'comment' as const, row })),
            ...links.map((row) => ({ id: row.id, kind: 'link' as const, row })),
          ];
        },
        work: (item) => this.work(lane, item),
      },
      signal,
    );
  }

  private work(lane: LaneContext, item: LaneItem): Promise<void> {
    return item.kind === 'comment'
      ? this.commentWriter.write(lane, item.row)
      : this.linkWriter.write(lane, item.row);
  }
}
