import { parseGitlabTimestamp } from '@testkase/sync-rules';
import { ValidationError } from '@testkase/util';

import { KNOWN_WORK_ITEM_TYPES } from './issue-hook.parser';
import { hasSubSecondPrecision } from './issue-snapshot';
import type { NoteAuthor, NoteSnapshot } from './note-snapshot';

/** GitLab's own note limit, in characters (docs/GITLAB.md, "Limits"). */
export const MAX_NOTE_CHARS = 1_000_000;
/** GitLab limits user names and usernames to 255 characters. */
export const MAX_USER_FIELD_CHARS = 255;
export const MAX_NOTE_URL_CHARS = 2_048;

/**
 * Noteable types other than issues that GitLab names in `object_attributes.noteable_type`; anything
 * else is counted as `Other`. Work items of another type arrive as `Issue` with the type in the
 * embedded object, and are reported by that type (`Task`, `Epic`, …, see KNOWN_WORK_ITEM_TYPES).
 */
export const KNOWN_NOTEABLE_TYPES = [
  'MergeRequest',
  'Commit',
  'Snippet',
  'WorkItem',
  'Epic',
  'DesignManagement::Design',
  'AlertManagement::Alert',
  'Vulnerability',
  'WikiPage::Meta',
] as const;

export type NoteHookResult =
  /** A comment on an issue (or on a work item of type Issue). */
  | {
      readonly kind: 'issue_note';
      readonly snapshot: NoteSnapshot;
      /** Every GitLab project id the payload names (`project.id`, `object_attributes.project_id`, …), once each. */
      readonly projectIds: readonly number[];
    }
  /** A comment on something else (merge request, commit, snippet, a Task …): not ours. */
  | { readonly kind: 'other_noteable'; readonly noteableType: string };

type Json = Record<string, unknown>;

/** Keys no GitLab payload has; a body carrying them is an attack on whoever merges it into an object. */
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const reject = (reason: string): never => {
  throw new ValidationError(`not a GitLab note event: ${reason}`);
};

/** Own properties only: a hostile prototype chain cannot supply a field. */
const get = (object: Json, key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);

const isAbsent = (value: unknown): value is null | undefined => value === undefined || value === null;

/** A JSON object as JSON.parse builds it: no array, no class instance, no prototype-polluting keys. */
function plainObject(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(`${field} must be an object`);
  }
  // Some realm's Object.prototype (payloads may come from a vm context or a worker), or none.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
    return reject(`${field} is not a plain JSON object`);
  }
  for (const key of FORBIDDEN_KEYS) {
    if (Object.hasOwn(value, key)) return reject(`${field} has the key "${key}", which GitLab never sends`);
  }
  return value as Json;
}

function optionalObject(value: unknown, field: string): Json | null {
  return isAbsent(value) ? null : plainObject(value, field);
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    return reject(`${field} must be a positive integer`);
  }
  return value;
}

function optionalPositiveInteger(value: unknown, field: string): number | null {
  return isAbsent(value) ? null : positiveInteger(value, field);
}

function optionalBoolean(value: unknown, field: string): boolean | null {
  if (isAbsent(value)) return null;
  if (typeof value !== 'boolean') return reject(`${field} must be a boolean`);
  return value;
}

function optionalBoundedString(value: unknown, field: string, maxChars: number): string | null {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string') return reject(`${field} must be a string`);
  if (value.length > maxChars) return reject(`${field} is longer than ${maxChars} characters`);
  return value;
}

/** Whether `text` has more than `max` characters as GitLab (Ruby) counts them: code points. */
function exceedsCodePoints(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index += 1;
    }
    count += 1;
    if (count > max) return true;
  }
  return false;
}

function noteBody(value: unknown): string {
  if (typeof value !== 'string') return reject('object_attributes.note must be a string');
  if (exceedsCodePoints(value, MAX_NOTE_CHARS)) {
    return reject(`object_attributes.note is longer than GitLab's limit of ${MAX_NOTE_CHARS} characters`);
  }
  return value;
}

function timestamp(value: unknown, field: string): { date: Date; exact: boolean } {
  if (typeof value !== 'string') return reject(`${field} must be a timestamp string`);
  const date = parseGitlabTimestamp(value);
  if (!date) return reject(`${field} is not a GitLab timestamp`);
  return { date, exact: hasSubSecondPrecision(value) };
}

function noteAction(value: unknown): 'create' | 'update' | null {
  if (isAbsent(value)) return null;
  if (value === 'create' || value === 'update') return value;
  return reject('object_attributes.action must be create or update');
}

function eventType(value: unknown): 'note' | 'confidential_note' | null {
  if (isAbsent(value)) return null;
  if (value === 'note' || value === 'confidential_note') return value;
  return reject('event_type must be note or confidential_note');
}

const boundedNoteableType = (type: string): string =>
  (KNOWN_NOTEABLE_TYPES as readonly string[]).includes(type) ? type : 'Other';

const boundedWorkItemType = (type: string): string =>
  (KNOWN_WORK_ITEM_TYPES as readonly string[]).includes(type) ? type : 'Other';

function projectIds(payload: Json, attributes: Json, issue: Json, issueKey: string): number[] {
  const ids: number[] = [];
  const project = optionalObject(get(payload, 'project'), 'project');
  const candidates: readonly (readonly [unknown, string])[] = [
    [project ? get(project, 'id') : undefined, 'project.id'],
    [get(attributes, 'project_id'), 'object_attributes.project_id'],
    [get(payload, 'project_id'), 'project_id'],
    [get(issue, 'project_id'), `${issueKey}.project_id`],
  ];
  for (const [value, field] of candidates) {
    const id = optionalPositiveInteger(value, field);
    if (id !== null && !ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) return reject('no project id');
  return ids;
}

/** `user` is the actor: the author for a new note, the editor for an edit (docs/GITLAB.md, "Note events"). */
function noteAuthor(payload: Json, authorId: number | null): NoteAuthor | null {
  const user = optionalObject(get(payload, 'user'), 'user');
  const userId = user ? optionalPositiveInteger(get(user, 'id'), 'user.id') : null;
  const username = user
    ? optionalBoundedString(get(user, 'username'), 'user.username', MAX_USER_FIELD_CHARS)
    : null;
  const name = user ? optionalBoundedString(get(user, 'name'), 'user.name', MAX_USER_FIELD_CHARS) : null;
  if (authorId === null) return null;
  // Only a `user` with the author's id is the author; old hooks (2016–2018) sent `user` without an id.
  if (userId === authorId) return { id: authorId, username, name };
  return { id: authorId, username: null, name: null };
}

/**
 * Whether the note is internal: `internal` (or its older name `confidential`) says so, or the event
 * is a `confidential_note` and the issue is not known to be confidential. GitLab sends
 * `confidential_note` for an internal note *or* a comment on a confidential issue, and hooks from
 * before `internal` joined the hook attributes carry neither flag (2023 capture). Fails closed.
 */
function noteIsInternal(
  attributes: Json,
  event: 'note' | 'confidential_note' | null,
  issueConfidential: boolean | null,
): boolean {
  const internal = optionalBoolean(get(attributes, 'internal'), 'object_attributes.internal');
  const confidential = optionalBoolean(get(attributes, 'confidential'), 'object_attributes.confidential');
  return (
    internal === true ||
    confidential === true ||
    (event === 'confidential_note' && issueConfidential !== true)
  );
}

/**
 * Reads a `Note Hook` / `Confidential Note Hook` body of any GitLab generation since 2016:
 * `event_type` may be missing (before ~2018), `user` without `id`, timestamps `… UTC` or ISO 8601,
 * no `internal` (older hooks) or `confidential`, no `action` (before 16.11). A comment on a work
 * item arrives as `noteable_type: "Issue"` with the item under `issue` and its type in `issue.type`;
 * `noteable_type: "WorkItem"` with the item under `work_item` is read the same way.
 *
 * @throws ValidationError for anything that is not a GitLab note event (not an object, wrong
 *   `object_kind`, ids that are not positive integers, a body beyond GitLab's limit, an issue note
 *   without the issue's iid, keys such as `__proto__`): the message says which.
 */
export function parseNoteHook(payload: unknown): NoteHookResult {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return reject('the body is not a JSON object');
  }
  const body = plainObject(payload, 'the body');
  if (get(body, 'object_kind') !== 'note') return reject('object_kind must be note');
  const event = eventType(get(body, 'event_type'));
  if (isAbsent(get(body, 'object_attributes'))) return reject('object_attributes is missing');
  const attributes = plainObject(get(body, 'object_attributes'), 'object_attributes');

  const noteableType = get(attributes, 'noteable_type');
  if (typeof noteableType !== 'string') return reject('object_attributes.noteable_type must be a string');
  if (noteableType !== 'Issue' && noteableType !== 'WorkItem') {
    return { kind: 'other_noteable', noteableType: boundedNoteableType(noteableType) };
  }

  const keys =
    noteableType === 'Issue' ? (['issue', 'work_item'] as const) : (['work_item', 'issue'] as const);
  const issueKey = keys.find((key) => !isAbsent(get(body, key)));
  if (issueKey === undefined) {
    if (noteableType === 'WorkItem') return { kind: 'other_noteable', noteableType: 'WorkItem' };
    return reject('issue is missing');
  }
  const issue = plainObject(get(body, issueKey), issueKey);
  const type = get(issue, 'type');
  if (!isAbsent(type) && typeof type !== 'string') return reject(`${issueKey}.type must be a string`);
  if (typeof type === 'string' && type !== 'Issue') {
    return { kind: 'other_noteable', noteableType: boundedWorkItemType(type) };
  }
  if (noteableType === 'WorkItem' && isAbsent(get(issue, 'iid'))) {
    return { kind: 'other_noteable', noteableType: 'WorkItem' };
  }

  const issueIid = positiveInteger(get(issue, 'iid'), `${issueKey}.iid`);
  const embeddedIssueId = optionalPositiveInteger(get(issue, 'id'), `${issueKey}.id`);
  const noteableId = optionalPositiveInteger(get(attributes, 'noteable_id'), 'object_attributes.noteable_id');
  if (embeddedIssueId !== null && noteableId !== null && embeddedIssueId !== noteableId) {
    return reject(`object_attributes.noteable_id does not match ${issueKey}.id`);
  }
  const issueConfidential = optionalBoolean(get(issue, 'confidential'), `${issueKey}.confidential`);

  const noteId = positiveInteger(get(attributes, 'id'), 'object_attributes.id');
  const noteText = noteBody(get(attributes, 'note'));
  const authorId = optionalPositiveInteger(get(attributes, 'author_id'), 'object_attributes.author_id');
  const system = optionalBoolean(get(attributes, 'system'), 'object_attributes.system') ?? false;
  const internal = noteIsInternal(attributes, event, issueConfidential);
  const created = timestamp(get(attributes, 'created_at'), 'object_attributes.created_at');
  const updated = timestamp(get(attributes, 'updated_at'), 'object_attributes.updated_at');
  const url = optionalBoundedString(get(attributes, 'url'), 'object_attributes.url', MAX_NOTE_URL_CHARS);
  const action = noteAction(get(attributes, 'action'));
  const ids = projectIds(body, attributes, issue, issueKey);
  const author = noteAuthor(body, authorId);

  return {
    kind: 'issue_note',
    projectIds: ids,
    snapshot: {
      noteId,
      body: noteText,
      authorId,
      author,
      system,
      internal,
      issueIid,
      issueId: embeddedIssueId ?? noteableId,
      issueConfidential,
      createdAt: created.date,
      updatedAt: updated.date,
      updatedAtExact: updated.exact,
      url,
      action,
      source: 'webhook',
    },
  };
}
