import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { ConnectionProjection, type ConnectionRecord } from '@testkase/consumer-kit';
import type { NoteSnapshot } from '@testkase/gitlab';
import { Inbox, Outbox } from '@testkase/platform';

import { OUR_NOTE_MARKER } from '../comments/comment-body';
import { CommentRepository } from '../comments/comment.repository';
import { sha256 } from '../links/link-comment';
import type { NoteEventOutcome } from '../metrics/relay.metrics';
import type { DefectTarget } from '../targets/target.records';
import { commentAddedEvent, commentDeletedEvent, commentEditedEvent, commentOf } from './note-events';
import { RelayedNoteRepository } from './relayed-note.repository';

/**
 * Relays a GitLab note on a pushed defect's issue to TestKase: a new one as comment_added, a newer
 * edit of a relayed one as comment_edited; forward only (a stale or replayed event changes nothing),
 * never a system note, never a note comment-relay wrote. The effect, the inbox entry and the event
 * commit together, behind the connection's gate.
 */
@Injectable()
export class NoteRelay {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly comments: CommentRepository,
    private readonly notes: RelayedNoteRepository,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Whether the note is one comment-relay wrote: by its id, or (before the id is committed) by our
   * marker on a note of the token's owner. Someone else quoting the marker is not us.
   */
  async isOurs(tx: EntityManager, connection: ConnectionRecord, note: NoteSnapshot): Promise<boolean> {
    if (await this.comments.isOurNote(tx, connection.connection_id, note.noteId)) return true;
    const tokenUser = connection.token_user_id === null ? null : Number(connection.token_user_id);
    return tokenUser !== null && note.authorId === tokenUser && OUR_NOTE_MARKER.test(note.body);
  }

  async apply(
    connectionId: string,
    defect: DefectTarget,
    note: NoteSnapshot,
    delivery?: { eventId: string; inbox: string },
  ): Promise<NoteEventOutcome> {
    return this.dataSource.transaction(async (tx) => {
      await this.connections.enterGate(tx, connectionId);
      const connection = await this.connections.find(tx, connectionId);
      if (!connection || connection.state !== 'active') return 'connection_inactive';
      if (note.system) return 'system';
      if (await this.isOurs(tx, connection, note)) return 'echo';
      if (delivery && !(await this.inbox.claim(tx, delivery.inbox, delivery.eventId))) return 'duplicate';
      const digest = sha256(note.body);
      const internal = note.internal || note.issueConfidential === true;
      const known = await this.notes.find(tx, connectionId, note.noteId, true);
      const comment = () => commentOf(defect, connectionId, note, connection.project_web_url);
      if (!known) {
        const inserted = await this.notes.insert(tx, {
          connection_id: connectionId,
          note_id: note.noteId,
          project_id: defect.project_id,
          defect_id: defect.defect_id,
          iid: note.issueIid,
          body_sha256: digest,
          internal,
          gl_updated_at: note.updatedAt,
        });
        if (!inserted) return 'duplicate';
        await this.outbox.addMany(tx, [commentAddedEvent(comment())]);
        return 'relayed';
      }
      if (known.deleted_at || note.updatedAt <= known.gl_updated_at) return 'stale';
      if (known.body_sha256 === digest && known.internal === internal) {
        await this.notes.edited(tx, connectionId, note.noteId, digest, internal, note.updatedAt);
        return 'unchanged';
      }
      await this.notes.edited(tx, connectionId, note.noteId, digest, internal, note.updatedAt);
      await this.outbox.addMany(tx, [commentEditedEvent(comment())]);
      return 'edited';
    });
  }

  /**
   * The relayed notes of an issue, not yet deleted, that a sweep's listing did not show: the
   * candidates it asks GitLab for one by one before calling them deleted (Reconciler).
   */
  async absentFrom(connectionId: string, iid: number, present: ReadonlySet<number>): Promise<number[]> {
    const live = await this.notes.liveOfIssue(this.dataSource.manager, connectionId, iid);
    return live.map((row) => Number(row.note_id)).filter((id) => !present.has(id));
  }

  /** Relayed notes GitLab no longer has (each confirmed by a 404 of its own): comment_deleted. */
  async deleted(connectionId: string, noteIds: readonly number[]): Promise<number> {
    if (noteIds.length === 0) return 0;
    return this.dataSource.transaction(async (tx) => {
      await this.connections.enterGate(tx, connectionId);
      const deleted = await this.notes.markDeleted(tx, connectionId, noteIds);
      await this.outbox.addMany(tx, deleted.map(commentDeletedEvent));
      return deleted.length;
    });
  }
}
