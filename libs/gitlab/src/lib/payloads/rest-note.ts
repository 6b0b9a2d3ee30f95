import { parseGitlabTimestamp } from '@testkase/sync-rules';

import type { GitlabNote } from '../gitlab-rest.types';
import { hasSubSecondPrecision } from './issue-snapshot';
import { MAX_NOTE_CHARS, MAX_USER_FIELD_CHARS } from './note-hook.parser';
import type { NoteAuthor, NoteSnapshot } from './note-snapshot';

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

const boundedOrNull = (value: unknown): string | null =>
  typeof value === 'string' && value.length <= MAX_USER_FIELD_CHARS ? value : null;

function restAuthor(value: unknown): NoteAuthor | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const author = value as Record<string, unknown>;
  if (!isPositiveInteger(author['id'])) return null;
  return {
    id: author['id'],
    username: boundedOrNull(author['username']),
    name: boundedOrNull(author['name']),
  };
}

/**
 * A REST issue note (`GET /projects/:id/issues/:issue_iid/notes[/:note_id]`) as a snapshot, or null
 * for a record that is not a usable note of issue `issueIid` (a note on another noteable or issue,
 * fields of the wrong type from a broken instance, a body beyond GitLab's limit): the caller skips
 * it. System notes are kept, with `system: true` (docs/GITLAB.md, "Notes (REST)").
 */
export function snapshotFromRestNote(note: GitlabNote, issueIid: number): NoteSnapshot | null {
  const raw = note as unknown as Record<string, unknown>;
  if (!isPositiveInteger(issueIid)) return null;
  if (!isPositiveInteger(raw['id'])) return null;
  const body = raw['body'];
  if (typeof body !== 'string' || body.length > MAX_NOTE_CHARS * 2) return null;
  // Beyond 1,000,000 UTF-16 units the body may still be within GitLab's limit in code points.
  if (body.length > MAX_NOTE_CHARS && [...body].length > MAX_NOTE_CHARS) return null;
  const noteableType = raw['noteable_type'];
  if (typeof noteableType === 'string' && noteableType !== 'Issue') return null;
  const noteableIid = raw['noteable_iid'];
  if (noteableIid !== undefined && noteableIid !== null && noteableIid !== issueIid) return null;
  const createdText = raw['created_at'];
  const updatedText = raw['updated_at'];
  if (typeof createdText !== 'string' || typeof updatedText !== 'string') return null;
  const createdAt = parseGitlabTimestamp(createdText);
  const updatedAt = parseGitlabTimestamp(updatedText);
  if (!createdAt || !updatedAt) return null;
  const flags = [raw['internal'], raw['confidential']].filter((flag) => flag !== undefined && flag !== null);
  if (flags.some((flag) => typeof flag !== 'boolean')) return null;
  // GitLab keeps both in step; should they ever differ, the note counts as internal.
  const internal = flags.includes(true);
  const author = restAuthor(raw['author']);
  const noteableId = raw['noteable_id'];
  return {
    noteId: raw['id'],
    body,
    authorId: author?.id ?? null,
    author,
    system: raw['system'] === true,
    internal,
    issueIid,
    issueId: isPositiveInteger(noteableId) ? noteableId : null,
    issueConfidential: null,
    createdAt,
    updatedAt,
    updatedAtExact: hasSubSecondPrecision(updatedText),
    url: null,
    action: null,
    source: 'rest',
  };
}
