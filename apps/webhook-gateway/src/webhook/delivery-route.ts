import type { GitlabEventKind } from '@testkase/contracts';

/**
 * `X-Gitlab-Event` values (docs/GITLAB.md, "Webhook deliveries": the hook scope, singularised and
 * title-cased) → the metric label. Anything else is `other`, so that an unauthenticated caller cannot grow
 * the label set.
 */
const EVENT_LABELS: Readonly<Record<string, string>> = {
  'Issue Hook': 'issue',
  'Confidential Issue Hook': 'confidential_issue',
  'Note Hook': 'note',
  'Confidential Note Hook': 'confidential_note',
  'Push Hook': 'push',
  'Tag Push Hook': 'tag_push',
  'Merge Request Hook': 'merge_request',
  'Wiki Page Hook': 'wiki_page',
  'Pipeline Hook': 'pipeline',
  'Job Hook': 'job',
  'Deployment Hook': 'deployment',
  'Feature Flag Hook': 'feature_flag',
  'Release Hook': 'release',
  'Emoji Hook': 'emoji',
  'Milestone Hook': 'milestone',
  'Member Hook': 'member',
  'Project Hook': 'project',
  'Subgroup Hook': 'subgroup',
  'Resource Access Token Hook': 'resource_access_token',
  'Vulnerability Hook': 'vulnerability',
  'System Hook': 'system',
};

/** The metric label of an `X-Gitlab-Event` header value. */
export function eventLabelOf(header: string | string[] | undefined): string {
  if (typeof header !== 'string') return 'none';
  return EVENT_LABELS[header] ?? 'other';
}

export type DeliveryRoute =
  /** Published to `gitlab.events.<connectionId>.<kind>`. */
  | { readonly use: true; readonly kind: GitlabEventKind; readonly event: string }
  /** An event the system does not use: answered 200 and counted. */
  | { readonly use: false; readonly event: string }
  /** The body is not a JSON object. */
  | { readonly use: false; readonly event: string; readonly invalid: true };

/** How far into an Issue Hook body `object_kind` is looked for before the body is parsed instead. */
export const OBJECT_KIND_SCAN_BYTES = 4_096;

const OBJECT_KIND_KEY = Buffer.from('"object_kind"');
const QUOTE = 0x22;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const isWhitespace = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Whether the body can be a JSON object: first and last non-blank bytes are braces. Cheap and
 * enough to turn away form posts and plain text; the consumers parse the body fully.
 */
export function looksLikeJsonObject(body: Buffer): boolean {
  let start = 0;
  while (start < body.length && isWhitespace(body[start])) start += 1;
  let end = body.length - 1;
  while (end > start && isWhitespace(body[end])) end -= 1;
  return end > start && body[start] === OPEN_BRACE && body[end] === CLOSE_BRACE;
}

/**
 * The value of the first `"object_kind"` key within the first `limit` bytes, without parsing the
 * body. GitLab writes `object_kind` first, so the scan normally stops after a dozen bytes.
 * `undefined` when the key is not in that prefix (or its value is not a short plain string).
 */
export function scanObjectKind(body: Buffer, limit = OBJECT_KIND_SCAN_BYTES): string | undefined {
  const prefix = body.subarray(0, Math.min(body.length, limit));
  const at = prefix.indexOf(OBJECT_KIND_KEY);
  if (at < 0) return undefined;
  let i = at + OBJECT_KIND_KEY.length;
  while (isWhitespace(prefix[i])) i += 1;
  if (prefix[i] !== COLON) return undefined;
  i += 1;
  while (isWhitespace(prefix[i])) i += 1;
  if (prefix[i] !== QUOTE) return undefined;
  const valueStart = i + 1;
  const valueEnd = prefix.indexOf(QUOTE, valueStart);
  if (valueEnd < 0 || valueEnd - valueStart > 64) return undefined;
  return prefix.toString('latin1', valueStart, valueEnd);
}

/** `object_kind` of the whole body (the slow path); null when the body is not a JSON object. */
function parseObjectKind(body: Buffer): string | null | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const kind = (parsed as { object_kind?: unknown }).object_kind;
    return typeof kind === 'string' ? kind : undefined;
  } catch {
    return null;
  }
}

/**
 * Where a delivery goes, from `X-Gitlab-Event` and, for issue hooks, `object_kind`: GitLab sends
 * tasks, incidents and other work items through the Issue Hook with `object_kind: "work_item"`
 * (docs/GITLAB.md, "Issue and work item events"). Notes of every noteable go to `note`; the consumers keep
 * issue notes.
 */
export function routeDelivery(eventHeader: string | string[] | undefined, body: Buffer): DeliveryRoute {
  const event = eventLabelOf(eventHeader);
  switch (event) {
    case 'note':
    case 'confidential_note':
      return { use: true, kind: 'note', event };
    case 'issue':
    case 'confidential_issue': {
      const kind = scanObjectKind(body) ?? parseObjectKind(body);
      if (kind === null) return { use: false, event, invalid: true };
      return kind === 'work_item'
        ? { use: true, kind: 'work_item', event: 'work_item' }
        : { use: true, kind: 'issue', event };
    }
    default:
      return { use: false, event };
  }
}
