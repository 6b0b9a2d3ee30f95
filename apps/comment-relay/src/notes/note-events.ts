import {
  DefectCommentAdded,
  DefectCommentDeleted,
  DefectCommentEdited,
  type DefectCommentV1,
  type EventDefinition,
} from '@testkase/contracts';
import type { NoteSnapshot } from '@testkase/gitlab';
import { buildCloudEvent, exceedsEventBudget, type OutboxMessage } from '@testkase/platform';
import { renderGitlabMarkdown } from '@testkase/sync-rules';

import type { DefectTarget } from '../targets/target.records';
import type { RelayedNoteRecord } from './relayed-note.repository';

export const EVENT_SOURCE = 'testkase-gitlab/comment-relay';

/** Bodies (Markdown and HTML together, UTF-8 once JSON-encoded) larger than this travel as `bodyOmitted`. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

function message<T>(definition: EventDefinition<T>, data: T, subject: string): OutboxMessage {
  return { subject: definition.subject, event: buildCloudEvent(EVENT_SOURCE, definition, data, { subject }) };
}

/** The comment as TestKase hears it: Markdown and sanitized HTML (links resolved against the project). */
export function commentOf(
  defect: DefectTarget,
  connectionId: string,
  note: NoteSnapshot,
  projectWebUrl: string,
): DefectCommentV1 {
  const html = renderGitlabMarkdown(note.body, { projectWebUrl });
  const omitted = exceedsEventBudget([note.body, html], MAX_EVENT_BODY_BYTES);
  return {
    projectId: defect.project_id,
    defectId: defect.defect_id,
    connectionId,
    noteId: note.noteId,
    iid: note.issueIid,
    bodyMarkdown: omitted ? '' : note.body,
    bodyHtml: omitted ? '' : html,
    ...(omitted ? { bodyOmitted: true } : {}),
    internal: note.internal || note.issueConfidential === true,
    author:
      note.author ?? (note.authorId === null ? null : { id: note.authorId, username: null, name: null }),
    url: note.url,
    gitlabCreatedAt: note.createdAt.toISOString(),
    gitlabUpdatedAt: note.updatedAt.toISOString(),
  };
}

export const commentAddedEvent = (comment: DefectCommentV1): OutboxMessage =>
  message(DefectCommentAdded, { comment }, `${comment.projectId}/${comment.defectId}`);

export const commentEditedEvent = (comment: DefectCommentV1): OutboxMessage =>
  message(DefectCommentEdited, { comment }, `${comment.projectId}/${comment.defectId}`);

export const commentDeletedEvent = (row: RelayedNoteRecord): OutboxMessage =>
  message(
    DefectCommentDeleted,
    {
      projectId: row.project_id,
      defectId: row.defect_id,
      connectionId: row.connection_id,
      noteId: Number(row.note_id),
      iid: row.iid,
      detectedAt: new Date().toISOString(),
    },
    `${row.project_id}/${row.defect_id}`,
  );
