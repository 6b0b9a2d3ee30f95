import { parseGitlabTimestamp } from '@testkase/sync-rules';
import { ValidationError } from '@testkase/util';

import { hasSubSecondPrecision, type IssueSnapshot } from './issue-snapshot';
import { movedTo } from './rest-issue';

/** GitLab validates titles at 255 characters; anything far beyond is not a GitLab issue. */
export const MAX_TITLE_CHARS = 1_024;
/** GitLab's own description limit. */
export const MAX_DESCRIPTION_CHARS = 1_048_576;
export const MAX_LABEL_CHARS = 255;
export const MAX_LABELS = 1_000;
/**
 * All label titles of one issue together. GitLab bounds each title, not their sum; 1,000 labels of
 * 255 characters would make every event of the issue too large to publish (docs/GITLAB.md, "Labels").
 */
export const MAX_LABELS_TOTAL_CHARS = 65_536;

/** Work item types GitLab sends through the issue hook; anything else is counted as `Other`. */
export const KNOWN_WORK_ITEM_TYPES = [
  'Task',
  'Epic',
  'Objective',
  'Key Result',
  'Incident',
  'Requirement',
  'Test Case',
  'Ticket',
] as const;

export type IssueHookResult =
  /** An issue: `snapshot` is null when the payload lacks a field we need (fetch it over REST). */
  | {
      readonly kind: 'issue';
      readonly iid: number;
      readonly snapshot: IssueSnapshot | null;
      /** Which fields were missing, when `snapshot` is null. */
      readonly missing: readonly string[];
      /** Every GitLab project id the payload names (`project.id`, `object_attributes.project_id`, …). */
      readonly projectIds: readonly number[];
    }
  /** A work item of another type (Task, Epic, …): not a requirement. */
  | { readonly kind: 'other_work_item'; readonly type: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const reject = (reason: string): never => {
  throw new ValidationError(`not a GitLab issue event: ${reason}`);
};

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    return reject(`${field} must be a positive integer`);
  }
  return value;
}

function optionalPositiveInteger(value: unknown, field: string): number | null {
  return value === undefined || value === null ? null : positiveInteger(value, field);
}

function boundedString(value: unknown, field: string, maxChars: number): string {
  if (typeof value !== 'string') return reject(`${field} must be a string`);
  if (value.length > maxChars) return reject(`${field} is longer than ${maxChars} characters`);
  return value;
}

/** undefined when absent, null when GitLab said null, a Date otherwise; a non-timestamp is refused. */
function timestamp(value: unknown, field: string): { date: Date; exact: boolean } | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') return reject(`${field} must be a timestamp string`);
  const date = parseGitlabTimestamp(value);
  if (!date) return reject(`${field} is not a GitLab timestamp`);
  return { date, exact: hasSubSecondPrecision(value) };
}

function labelTitles(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) return reject(`${field} must be a list`);
  if (value.length > MAX_LABELS) return reject(`${field} has more than ${MAX_LABELS} labels`);
  let total = 0;
  return value.map((label, index) => {
    // REST sends names; webhooks send objects with `title` (a few old ones `name`).
    const title = boundedString(
      isObject(label) ? (label['title'] ?? label['name']) : label,
      `${field}[${index}]`,
      MAX_LABEL_CHARS,
    );
    total += title.length;
    if (total > MAX_LABELS_TOTAL_CHARS)
      return reject(`${field} has more than ${MAX_LABELS_TOTAL_CHARS} characters in all`);
    return title;
  });
}

function issueState(attributes: Json): 'opened' | 'closed' | undefined {
  const state = attributes['state'];
  if (state !== undefined && state !== null) {
    if (state === 'opened' || state === 'reopened') return 'opened';
    if (state === 'closed') return 'closed';
    return reject('object_attributes.state must be opened or closed');
  }
  const stateId = attributes['state_id'];
  if (stateId === 1) return 'opened';
  if (stateId === 2) return 'closed';
  if (stateId !== undefined && stateId !== null) return reject('object_attributes.state_id must be 1 or 2');
  return undefined;
}

function projectIds(payload: Json, attributes: Json): number[] {
  const ids: number[] = [];
  const project = payload['project'];
  if (project !== undefined && project !== null) {
    if (!isObject(project)) return reject('project must be an object');
    const id = optionalPositiveInteger(project['id'], 'project.id');
    if (id !== null) ids.push(id);
  }
  for (const [value, field] of [
    [attributes['project_id'], 'object_attributes.project_id'],
    [payload['project_id'], 'project_id'],
  ] as const) {
    const id = optionalPositiveInteger(value, field);
    if (id !== null) ids.push(id);
  }
  if (ids.length === 0) return reject('no project id');
  return ids;
}

/**
 * Reads an `Issue Hook` / `Confidential Issue Hook` body of any GitLab generation since 2016:
 * `event_type` may be missing, `description` null, timestamps ISO 8601 or `… UTC`, labels under
 * `object_attributes.labels` or only at the top level, URLs with or without `/-/`. Work items of
 * other types are recognised by `object_attributes.type`.
 *
 * @throws ValidationError for anything that is not a GitLab issue event (wrong types, an iid that
 *   is not a positive integer, oversized fields, no project id): the message says which.
 */
export function parseIssueHook(payload: unknown): IssueHookResult {
  if (!isObject(payload)) return reject('the body is not a JSON object');
  const kind = payload['object_kind'];
  if (kind !== 'issue' && kind !== 'work_item') return reject('object_kind must be issue or work_item');
  const attributes = payload['object_attributes'];
  if (!isObject(attributes)) return reject('object_attributes is missing');

  const type = attributes['type'];
  if (type !== undefined && type !== null && typeof type !== 'string') {
    return reject('object_attributes.type must be a string');
  }
  if (typeof type === 'string' && type !== 'Issue') {
    const known = (KNOWN_WORK_ITEM_TYPES as readonly string[]).includes(type);
    return { kind: 'other_work_item', type: known ? type : 'Other' };
  }
  if (kind === 'work_item' && typeof type !== 'string') return { kind: 'other_work_item', type: 'Other' };

  const iid = positiveInteger(attributes['iid'], 'object_attributes.iid');
  const issueId = optionalPositiveInteger(attributes['id'], 'object_attributes.id');
  const ids = projectIds(payload, attributes);
  const missing: string[] = [];

  const title =
    attributes['title'] === undefined
      ? undefined
      : boundedString(attributes['title'], 'object_attributes.title', MAX_TITLE_CHARS);
  if (title === undefined) missing.push('title');

  const rawDescription = attributes['description'];
  const description =
    rawDescription === undefined
      ? undefined
      : rawDescription === null
        ? ''
        : boundedString(rawDescription, 'object_attributes.description', MAX_DESCRIPTION_CHARS);
  if (description === undefined) missing.push('description');

  const state = issueState(attributes);
  if (state === undefined) missing.push('state');

  let labels: string[] | undefined;
  if (attributes['labels'] !== undefined && attributes['labels'] !== null) {
    labels = labelTitles(attributes['labels'], 'object_attributes.labels');
  } else if (payload['labels'] !== undefined && payload['labels'] !== null) {
    labels = labelTitles(payload['labels'], 'labels');
  } else {
    missing.push('labels');
  }

  let confidential: boolean | undefined;
  const rawConfidential = attributes['confidential'];
  if (rawConfidential !== undefined && rawConfidential !== null) {
    if (typeof rawConfidential !== 'boolean')
      return reject('object_attributes.confidential must be a boolean');
    confidential = rawConfidential;
  } else if (typeof payload['event_type'] === 'string') {
    confidential = payload['event_type'].startsWith('confidential_');
  } else {
    missing.push('confidential');
  }

  const rawUrl = attributes['url'];
  const webUrl =
    rawUrl === undefined || rawUrl === null ? null : boundedString(rawUrl, 'object_attributes.url', 2_048);

  const created = timestamp(attributes['created_at'], 'object_attributes.created_at');
  let updated = timestamp(attributes['updated_at'], 'object_attributes.updated_at');
  if (!updated) {
    const changes = payload['changes'];
    const change = isObject(changes) ? changes['updated_at'] : undefined;
    if (isObject(change)) updated = timestamp(change['current'], 'changes.updated_at.current');
  }
  if (!updated) missing.push('updated_at');

  if (
    title === undefined ||
    description === undefined ||
    state === undefined ||
    labels === undefined ||
    confidential === undefined ||
    !updated
  ) {
    return { kind: 'issue', iid, projectIds: ids, missing, snapshot: null };
  }
  return {
    kind: 'issue',
    iid,
    projectIds: ids,
    missing,
    snapshot: {
      iid,
      issueId,
      title,
      description,
      state,
      labels,
      confidential,
      webUrl,
      createdAt: created?.date ?? null,
      updatedAt: updated.date,
      updatedAtExact: updated.exact,
      source: 'webhook',
      ...movedTo(attributes['moved_to_id']),
    },
  };
}

/** Which issue a work item event of another type is about, and when GitLab changed it. */
export interface OtherWorkItemRef {
  readonly iid: number;
  /** GitLab's global id, when given. */
  readonly issueId: number | null;
  readonly projectIds: readonly number[];
  /** The work item type (`Task`, `Incident`, …, or `Other`), as parseIssueHook names it. */
  readonly type: string;
  readonly updatedAt: Date;
  readonly updatedAtExact: boolean;
}

/**
 * For an event parseIssueHook calls `other_work_item`: the iid, project ids and `updated_at` that
 * let a consumer tell an issue turned into another type (Task, Incident, …) from a work item that
 * never was an issue. Null when the payload lacks one of them (nothing can be decided from it).
 */
export function otherWorkItemRef(payload: unknown): OtherWorkItemRef | null {
  const parsed = parseIssueHook(payload);
  if (parsed.kind !== 'other_work_item' || !isObject(payload)) return null;
  const attributes = payload['object_attributes'];
  if (!isObject(attributes)) return null;
  try {
    const iid = positiveInteger(attributes['iid'], 'object_attributes.iid');
    const issueId = optionalPositiveInteger(attributes['id'], 'object_attributes.id');
    const ids = projectIds(payload, attributes);
    let updated = timestamp(attributes['updated_at'], 'object_attributes.updated_at');
    if (!updated) {
      const changes = payload['changes'];
      const change = isObject(changes) ? changes['updated_at'] : undefined;
      if (isObject(change)) updated = timestamp(change['current'], 'changes.updated_at.current');
    }
    if (!updated) return null;
    return {
      iid,
      issueId,
      projectIds: ids,
      type: parsed.type,
      updatedAt: updated.date,
      updatedAtExact: updated.exact,
    };
  } catch (error) {
    if (error instanceof ValidationError) return null;
    throw error;
  }
}
