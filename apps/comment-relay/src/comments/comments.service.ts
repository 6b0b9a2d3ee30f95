import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { ConnectionProjection, LaneSignals } from '@testkase/consumer-kit';
import { AppError } from '@testkase/util';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import { syncStateOf, type SyncView } from '../lane/sync-view';
import { TargetRepository } from '../targets/target.repository';
import { commentMarkdown } from './comment-body';
import type { CommentRecord } from './comment.records';
import { CommentRepository } from './comment.repository';

/** A TestKase comment on a defect and the state of its GitLab note. */
export interface CommentView extends SyncView {
  readonly projectId: string;
  readonly defectId: string;
  readonly commentId: string;
  readonly deleted: boolean;
  readonly updatedAt: string;
}

/** How a request ended for its caller: `created` (201), `existing` (200, a retried post), `pending` (202). */
export type CommentOutcome = 'created' | 'existing' | 'updated' | 'pending';

export interface CommentInput {
  readonly author: string;
  readonly body: string;
  readonly bodyFormat?: 'html' | 'markdown';
}

/** How often a waiting request reads the row when the lane may run on another replica. */
const POLL_MS = 200;

const notFound = () => new AppError('NOT_FOUND', 'This defect has no comment with this id');

/**
 * TestKase comments on pushed defects (HTTP and gRPC): post, edit and delete the GitLab note,
 * idempotent by commentId. A request is recorded at once and carried out by the connection's lane
 * (durable: rate limits, restarts and GitLab outages delay it, never lose it); it waits up to
 * COMMENT_WAIT for the note and otherwise answers `pending`.
 */
@Injectable()
export class CommentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly targets: TargetRepository,
    private readonly comments: CommentRepository,
    private readonly signals: LaneSignals,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
  ) {}

  async get(projectId: string, defectId: string, commentId: string): Promise<CommentView> {
    const row = await this.comments.find(this.dataSource.manager, projectId, defectId, commentId);
    if (!row) throw notFound();
    return this.viewOf(row);
  }

  async post(
    projectId: string,
    defectId: string,
    commentId: string,
    input: CommentInput,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    const body = commentMarkdown(input.body, input.bodyFormat ?? 'html');
    const { row, inserted } = await this.dataSource.transaction(async (tx) => {
      await this.targets.lockDefect(tx, projectId, defectId);
      const existing = await this.comments.find(tx, projectId, defectId, commentId);
      if (existing) return { row: existing, inserted: false };
      const connectionId = await this.targetConnection(tx, projectId, defectId);
      const created = await this.comments.insert(tx, {
        projectId,
        defectId,
        commentId,
        connectionId,
        author: input.author,
        body,
      });
      // A concurrent post of the same id won the insert: share its row.
      return created
        ? { row: created, inserted: true }
        : { row: await this.existing(tx, projectId, defectId, commentId), inserted: false };
    });
    if (!inserted) return { outcome: 'existing', comment: this.viewOf(row) };
    return this.settle(row, 'created');
  }

  async edit(
    projectId: string,
    defectId: string,
    commentId: string,
    input: CommentInput,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    const body = commentMarkdown(input.body, input.bodyFormat ?? 'html');
    const row = await this.dataSource.transaction(async (tx) => {
      await this.targets.lockDefect(tx, projectId, defectId);
      const current = await this.comments.find(tx, projectId, defectId, commentId, true);
      if (!current) throw notFound();
      if (current.deleted) throw new AppError('CONFLICT', 'This comment was deleted');
      await this.targetConnection(tx, projectId, defectId);
      if (current.body === body && current.author === input.author) return current;
      return this.comments.change(tx, current.id, { author: input.author, body });
    });
    return this.settle(row, 'updated');
  }

  async remove(
    projectId: string,
    defectId: string,
    commentId: string,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    const row = await this.dataSource.transaction(async (tx) => {
      await this.targets.lockDefect(tx, projectId, defectId);
      const current = await this.comments.find(tx, projectId, defectId, commentId, true);
      if (!current) throw notFound();
      if (current.deleted) return current;
      await this.targetConnection(tx, projectId, defectId);
      return this.comments.change(tx, current.id, { deleted: true });
    });
    return this.settle(row, 'updated');
  }

  private async existing(tx: EntityManager, projectId: string, defectId: string, commentId: string) {
    const row = await this.comments.find(tx, projectId, defectId, commentId);
    if (!row) throw new AppError('CONFLICT', 'The comment was recorded and removed at once: retry');
    return row;
  }

  /**
   * The connection of the defect's issue, or null when comment-relay has not heard of the push
   * yet (the comment waits up to TARGET_WAIT for it). A detached defect is refused.
   */
  private async targetConnection(
    tx: EntityManager,
    projectId: string,
    defectId: string,
  ): Promise<string | null> {
    const target = await this.targets.findDefect(tx, projectId, defectId);
    if (!target) {
      const active = await this.connections.activeForProject(tx, projectId);
      if (!active)
        throw new AppError('NOT_CONNECTED', 'This TestKase project is not connected to a GitLab project');
      return null;
    }
    const connection = target.connection_id ? await this.connections.find(tx, target.connection_id) : null;
    if (!connection || connection.state !== 'active') {
      throw new AppError(
        'NOT_CONNECTED',
        'This defect is no longer synced with GitLab (the project was disconnected)',
      );
    }
    return connection.connection_id;
  }

  /** Waits up to COMMENT_WAIT for the lane to write the row's revision. */
  private async settle(
    row: CommentRecord,
    done: CommentOutcome,
  ): Promise<{ outcome: CommentOutcome; comment: CommentView }> {
    if (row.written_revision >= row.revision) return { outcome: done, comment: this.viewOf(row) };
    if (row.connection_id && row.next_attempt_at) this.signals.work(row.connection_id);
    const deadline = Date.now() + this.config.COMMENT_WAIT;
    let current = row;
    while (Date.now() < deadline) {
      await this.signals.next(row.id, Math.min(POLL_MS, deadline - Date.now()));
      current = (await this.comments.findById(this.dataSource.manager, row.id)) ?? current;
      if (current.written_revision >= row.revision) return { outcome: done, comment: this.viewOf(current) };
      if (current.error_code && !current.next_attempt_at) break;
    }
    const view = this.viewOf(current);
    if (view.syncStatus === 'failed' && current.error_code) {
      throw new AppError(current.error_code as never, current.error_message ?? 'GitLab refused the comment');
    }
    return { outcome: 'pending', comment: view };
  }

  private viewOf(row: CommentRecord): CommentView {
    return {
      projectId: row.project_id,
      defectId: row.defect_id,
      commentId: row.comment_id,
      deleted: row.deleted,
      updatedAt: row.updated_at.toISOString(),
      ...syncStateOf(row, this.config.TARGET_WAIT, 'DEFECT_NOT_FOUND'),
    };
  }
}
