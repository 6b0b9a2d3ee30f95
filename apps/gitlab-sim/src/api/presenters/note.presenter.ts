import { isoMs } from '../../domain/time-format';
import type { SimUrls } from '../../domain/urls';
import type { SimIssue, SimNote } from '../../store/models';
import type { SimStore } from '../../store/sim-store';
import { presentUserBasic } from './user.presenter';

/** `Entities::Note` for notes on issues (fixture api-issue-notes-list.json). */
export function presentNote(
  note: SimNote,
  issue: SimIssue,
  store: SimStore,
  urls: SimUrls,
): Record<string, unknown> {
  const author = store.users.get(note.authorId);
  return {
    id: note.id,
    body: note.body,
    attachment: null,
    author: author
      ? {
          ...presentUserBasic(author, urls),
          email: author.publicEmail ?? author.email,
          created_at: isoMs(author.createdAt),
        }
      : null,
    created_at: isoMs(note.createdAt),
    updated_at: isoMs(note.updatedAt),
    system: note.system,
    noteable_id: issue.id,
    noteable_type: 'Issue',
    project_id: note.projectId,
    noteable_iid: issue.iid,
    resolvable: false,
    confidential: note.internal,
    internal: note.internal,
    imported: false,
    imported_from: 'none',
  };
}

/** `Entities::NoteCommands`: the 202 answer to a note made only of quick actions. */
export function presentNoteCommands(
  changes: Record<string, unknown>,
  summary: string[],
): Record<string, unknown> {
  return { commands_changes: changes, summary };
}
