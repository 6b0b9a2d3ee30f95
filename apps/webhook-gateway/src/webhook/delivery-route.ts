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

/**
 * How far into an Issue Hook body `object_kind` is looked for. The gateway never parses a whole
 * body: a caller holding a connection's secret could make it parse 25 MiB on the event loop per
 * request. GitLab writes `object_kind` first (docs/GITLAB.md, "Issue and work item events").
 */
export const OBJECT_KIND_SCAN_BYTES = 65_536;

const OBJECT_KIND = 'object_kind';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Longest `object_kind` value taken (GitLab's are a word). */
const MAX_KIND_LENGTH = 64;

const isWhitespace = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Whether the body can be a JSON object: first and last non-blank bytes are braces, with at most
 * {@link OBJECT_KIND_SCAN_BYTES} blanks around them (so that 25 MiB of blanks cost no more). Cheap
 * and enough to turn away form posts and plain text; the consumers parse the body fully.
 */
export function looksLikeJsonObject(body: Buffer): boolean {
  let start = 0;
  const startLimit = Math.min(body.length, OBJECT_KIND_SCAN_BYTES);
  while (start < startLimit && isWhitespace(body[start])) start += 1;
  let end = body.length - 1;
  const endLimit = Math.max(start, body.length - 1 - OBJECT_KIND_SCAN_BYTES);
  while (end > endLimit && isWhitespace(body[end])) end -= 1;
  return end > start && body[start] === OPEN_BRACE && body[end] === CLOSE_BRACE;
}

/** Thrown inside the scan: the prefix ends before the answer is known. */
const TRUNCATED = Symbol('truncated');
/** Thrown inside the scan: the bytes are not a JSON object. */
const MALFORMED = Symbol('malformed');

/**
 * The string value of the **top-level** `object_kind` key, read from the first `limit` bytes
 * without parsing the body: nested values are skipped over, not built. `undefined` when the
 * object has no such key, its value is not a short string, or the prefix ends first; `null` when
 * the prefix shows that the body is not a JSON object. GitLab writes `object_kind` first, so the
 * scan normally stops after a dozen bytes.
 */
export function scanObjectKind(body: Buffer, limit = OBJECT_KIND_SCAN_BYTES): string | null | undefined {
  const end = Math.min(body.length, limit);
  let i = 0;
  const at = (): number => {
    if (i >= end) throw TRUNCATED;
    return body[i] as number;
  };
  const skipBlank = () => {
    while (isWhitespace(at())) i += 1;
  };
  /** From an opening quote to after the closing one; returns the start and end of the content. */
  const skipString = (): [number, number] => {
    const from = i + 1;
    for (i = from; ; i += 1) {
      const byte = at();
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) break;
    }
    i += 1;
    return [from, i - 1];
  };
  /** Skips one value of any kind; strings and nesting are tracked, literals checked loosely. */
  const skipValue = () => {
    const first = at();
    if (first === QUOTE) {
      skipString();
      return;
    }
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      while (![COMMA, CLOSE_BRACE, CLOSE_BRACKET].includes(at()) && !isWhitespace(at())) i += 1;
      return;
    }
    let depth = 0;
    for (;;) {
      const byte = at();
      if (byte === QUOTE) {
        skipString();
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth -= 1;
      i += 1;
      if (depth === 0) return;
    }
  };
  try {
    skipBlank();
    if (at() !== OPEN_BRACE) throw MALFORMED;
    i += 1;
    skipBlank();
    if (at() === CLOSE_BRACE) return undefined;
    for (;;) {
      if (at() !== QUOTE) throw MALFORMED;
      const [keyStart, keyEnd] = skipString();
      skipBlank();
      if (at() !== COLON) throw MALFORMED;
      i += 1;
      skipBlank();
      if (
        keyEnd - keyStart === OBJECT_KIND.length &&
        body.toString('latin1', keyStart, keyEnd) === OBJECT_KIND
      ) {
        if (at() !== QUOTE) return undefined;
        const [valueStart, valueEnd] = skipString();
        if (valueEnd - valueStart > MAX_KIND_LENGTH) return undefined;
        return body.toString('latin1', valueStart, valueEnd);
      }
      skipValue();
      skipBlank();
      const next = at();
      if (next === CLOSE_BRACE) return undefined;
      if (next !== COMMA) throw MALFORMED;
      i += 1;
      skipBlank();
    }
  } catch (stop) {
    if (stop === TRUNCATED) return undefined;
    if (stop === MALFORMED) return null;
    throw stop;
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
      // Not found in the scanned prefix (GitLab never does that): `issue`, whose consumers parse
      // the whole body and decide by its own object_kind.
      const kind = scanObjectKind(body);
      if (kind === null) return { use: false, event, invalid: true };
      return kind === 'work_item'
        ? { use: true, kind: 'work_item', event: 'work_item' }
        : { use: true, kind: 'issue', event };
    }
    default:
      return { use: false, event };
  }
}
