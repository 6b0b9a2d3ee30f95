import { Inject, Injectable } from '@nestjs/common';

import type { LaneContext } from '@testkase/consumer-kit';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import { LINK_COMMENT_MARKER, renderLinkComment, sha256 } from '../links/link-comment';
import type { LinkCommentRecord } from '../links/link.records';
import { LinkRepository, type Debounce } from '../links/link.repository';
import { RelayMetrics } from '../metrics/relay.metrics';
import { TargetRepository } from '../targets/target.repository';
import { createNote, deleteNote, findOurNote, updateNote } from './our-notes';
import { recordFailure } from './write-failure';

/**
 * Writes a requirement's linked-test-cases comment as the links stand now: created on the first
 * link, edited in place, deleted when the last link goes (an empty list is noise on the issue, and
 * a later link creates it again). A confidential issue gets an internal note; when the issue's
 * confidentiality changes, the note is made again to match. Unchanged content is not written.
 */
@Injectable()
export class LinkCommentWriter {
  private readonly debounce: Debounce;

  constructor(
    private readonly links: LinkRepository,
    private readonly targets: TargetRepository,
    private readonly metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
  ) {
    this.debounce = { quietMs: config.LINK_DEBOUNCE, maxDelayMs: config.LINK_MAX_DELAY };
  }

  async write(lane: LaneContext, row: LinkCommentRecord): Promise<void> {
    const { target, links } = await lane.lease.transaction(async (tx) => ({
      target: await this.targets.findRequirement(tx, row.requirement_id),
      links: await this.links.links(tx, row.project_id, row.requirement_id),
    }));
    if (
      !target ||
      target.project_id !== row.project_id ||
      target.sync_state !== 'synced' ||
      target.connection_id !== lane.project.connectionId
    ) {
      await lane.lease.transaction((tx) => this.links.idle(tx, row.id));
      return;
    }
    const iid = target.iid;
    const internal = target.confidential;
    try {
      let noteId = row.note_id === null ? null : Number(row.note_id);
      let noteInternal = row.note_internal;
      if (noteId === null && row.outcome_unknown) {
        const found = await findOurNote(lane, iid, LINK_COMMENT_MARKER);
        if (found) {
          noteId = found.id;
          noteInternal = found.internal ?? found.confidential ?? false;
        }
      }
      if (links.length === 0) {
        if (noteId !== null) {
          await deleteNote(lane, iid, noteId);
          this.metrics.writes.inc({ kind: 'link_comment', op: 'delete' });
        }
        await lane.lease.transaction((tx) =>
          this.links.written(
            tx,
            row.id,
            { revision: row.revision, noteId: null, internal: null, sha256: null },
            this.debounce,
          ),
        );
        return;
      }
      const body = renderLinkComment(links);
      const digest = sha256(body);
      if (noteId !== null && noteInternal !== internal) {
        // GitLab cannot change a note's visibility: make it again.
        await deleteNote(lane, iid, noteId);
        noteId = null;
      }
      if (noteId !== null && digest !== row.body_sha256) {
        if (await updateNote(lane, iid, noteId, body))
          this.metrics.writes.inc({ kind: 'link_comment', op: 'update' });
        else noteId = null;
      }
      if (noteId === null) {
        await lane.lease.transaction((tx) => this.links.markOutcomeUnknown(tx, row.id));
        noteId = await createNote(lane, iid, body, internal);
        this.metrics.writes.inc({ kind: 'link_comment', op: 'create' });
      }
      const written = noteId;
      await lane.lease.transaction((tx) =>
        this.links.written(
          tx,
          row.id,
          { revision: row.revision, noteId: written, internal, sha256: digest },
          this.debounce,
        ),
      );
    } catch (error) {
      await recordFailure(error, row.failures, this.config.RETRY_MAX_INTERVAL, (failure, retryAt) =>
        lane.lease.transaction((tx) => this.links.failed(tx, row.id, failure, retryAt)),
      );
    }
  }
}
