import { Inject, Injectable } from '@nestjs/common';

import type { LaneContext } from '@testkase/consumer-kit';

import { commentMarker, noteBody } from '../comments/comment-body';
import type { CommentRecord } from '../comments/comment.records';
import { CommentRepository } from '../comments/comment.repository';
import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import { RelayMetrics } from '../metrics/relay.metrics';
import { TargetRepository } from '../targets/target.repository';
import { createNote, deleteNote, findOurNote, updateNote } from './our-notes';
import { recordFailure } from './write-failure';

/**
 * Writes a TestKase comment to its defect's issue: posts the note (after looking for it first when
 * an earlier create had no known outcome), edits it (a note someone deleted on GitLab is posted
 * again), or deletes it. The note id is committed in the same step, before its webhook can matter:
 * the note event handler also recognises our marker on notes of the token's owner.
 */
@Injectable()
export class CommentWriter {
  constructor(
    private readonly comments: CommentRepository,
    private readonly targets: TargetRepository,
    private readonly metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
  ) {}

  async write(lane: LaneContext, row: CommentRecord): Promise<void> {
    const target = await lane.lease.transaction((tx) =>
      this.targets.findDefect(tx, row.project_id, row.defect_id),
    );
    if (!target || target.connection_id !== lane.project.connectionId) {
      await lane.lease.transaction((tx) => this.comments.idle(tx, row.id));
      return;
    }
    const iid = target.iid;
    const marker = commentMarker(row.comment_id);
    try {
      let noteId = row.note_id === null ? null : Number(row.note_id);
      if (noteId === null && row.outcome_unknown) noteId = (await findOurNote(lane, iid, marker))?.id ?? null;
      if (row.deleted) {
        if (noteId !== null) {
          await deleteNote(lane, iid, noteId);
          this.metrics.writes.inc({ kind: 'comment', op: 'delete' });
        }
      } else {
        const body = noteBody(row.comment_id, row.author, row.body);
        if (noteId !== null) {
          if (await updateNote(lane, iid, noteId, body))
            this.metrics.writes.inc({ kind: 'comment', op: 'update' });
          else noteId = null;
        }
        if (noteId === null) {
          await lane.lease.transaction((tx) => this.comments.markOutcomeUnknown(tx, row.id));
          noteId = await createNote(lane, iid, body, false);
          this.metrics.writes.inc({ kind: 'comment', op: 'create' });
        }
      }
      const written = noteId;
      await lane.lease.transaction((tx) => this.comments.written(tx, row.id, row.revision, written));
    } catch (error) {
      await recordFailure(error, row.failures, this.config.RETRY_MAX_INTERVAL, (failure, retryAt) =>
        lane.lease.transaction((tx) => this.comments.failed(tx, row.id, failure, retryAt)),
      );
    }
  }
}
