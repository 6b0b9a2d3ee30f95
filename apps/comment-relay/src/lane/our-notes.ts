import type { LaneContext } from '@testkase/consumer-kit';
import type { GitlabNote } from '@testkase/gitlab';
import { isAppError } from '@testkase/util';

/** How far back a retry looks for a note whose create had no known outcome (newest first). */
const SEARCH_PAGES = 5;

/**
 * The note the token's owner wrote with `marker`, on the issue, if any: how a create whose answer
 * was lost (a crash, a timeout) is found again instead of posted twice.
 */
export async function findOurNote(
  lane: LaneContext,
  iid: number,
  marker: string,
): Promise<GitlabNote | null> {
  let pages = 0;
  for await (const page of lane.gitlab.notes.pages(lane.project.gitlabProjectId, iid, {
    sort: 'desc',
    order_by: 'created_at',
    per_page: 100,
  })) {
    const found = page.items.find(
      (note) => note.author?.id === lane.tokenUserId && note.body.includes(marker),
    );
    if (found) return found;
    pages += 1;
    if (pages >= SEARCH_PAGES) break;
  }
  return null;
}

/** Deletes a note; one GitLab no longer has is deleted already. */
export async function deleteNote(lane: LaneContext, iid: number, noteId: number): Promise<void> {
  try {
    await lane.gitlab.notes.delete(lane.project.gitlabProjectId, iid, noteId);
  } catch (error) {
    if (!(isAppError(error) && error.code === 'GITLAB_NOT_FOUND')) throw error;
  }
}

/** Edits a note; false when GitLab no longer has it (someone deleted it). */
export async function updateNote(
  lane: LaneContext,
  iid: number,
  noteId: number,
  body: string,
): Promise<boolean> {
  try {
    await lane.gitlab.notes.update(lane.project.gitlabProjectId, iid, noteId, { body });
    return true;
  } catch (error) {
    if (isAppError(error) && error.code === 'GITLAB_NOT_FOUND') return false;
    throw error;
  }
}

/** Creates a note; a body made only of quick actions would not be stored, which ours never are. */
export async function createNote(
  lane: LaneContext,
  iid: number,
  body: string,
  internal: boolean,
): Promise<number> {
  const result = await lane.gitlab.notes.create(lane.project.gitlabProjectId, iid, { body, internal });
  if (result.kind !== 'created') throw new Error('GitLab ran the note as quick actions and stored nothing');
  return result.note.id;
}
