import { readFileSync } from 'node:fs';
import path from 'node:path';

import fc from 'fast-check';

import { WORKSPACE_ROOT } from '@testkase/testing';

/**
 * Real GitLab webhook bodies kept in the repository (apps/webhook-gateway/test/fixtures/gitlab),
 * with the `X-Gitlab-Event` GitLab sends with each.
 */
export const GITLAB_FIXTURES: ReadonlyArray<{ name: string; event: string; body: Record<string, unknown> }> =
  [
    ['webhook-issue-open.json', 'Issue Hook'],
    ['webhook-note-issue.json', 'Note Hook'],
    ['real/webhook-confidential-note-issue-2023.json', 'Confidential Note Hook'],
    ['real/webhook-issue-open-null-description-2018.json', 'Issue Hook'],
    ['real/webhook-work-item-task-open-2026.json', 'Issue Hook'],
  ].map(([name, event]) => ({
    name: name!,
    event: event!,
    body: JSON.parse(
      readFileSync(path.join(WORKSPACE_ROOT, 'apps/webhook-gateway/test/fixtures/gitlab', name!), 'utf8'),
    ) as Record<string, unknown>,
  }));

/** Strings that break naive code: traversal, encodings, injections, control and odd Unicode. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '..%2f..%2fhealth',
  '%2e%2e%2f',
  '%00',
  '\u0000',
  '\ud800',
  '\uffff',
  '\u202e\u0041\u0042',
  '🦊'.repeat(50),
  "' OR 1=1 --",
  '"; DROP TABLE connections; --',
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '99999999999999999999999999999999',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  'a'.repeat(4096),
];

export const oddString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.uuid() },
  );

/** A JSON value of the wrong kind for any field: numbers at the edges, nulls, nesting, odd strings. */
export const wrongValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, [], {}),
    oddString(),
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.integer(), { maxLength: 5 }),
  );

type Json = unknown;

/** Every path (list of keys) into a JSON document, for mutations to pick from. */
export function pathsOf(
  value: Json,
  prefix: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
) {
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, Json>)) {
      const next = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(next);
      if (out.length < 400) pathsOf(child, next, out);
    }
  }
  return out;
}

function setAt(root: Json, keys: Array<string | number>, value: Json | typeof DELETE): Json {
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = keys[keys.length - 1]!;
  if (value === DELETE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}
const DELETE = Symbol('delete');

/** A mutation of a body, described (for the failure message) and applied to bytes. */
export interface BodyMutation {
  readonly label: string;
  apply(body: Json): Buffer;
}

const json = (value: Json) => Buffer.from(JSON.stringify(value));

/** Mutations of a GitLab payload: wrong types, missing fields, huge strings, deep nesting, bad bytes. */
export function bodyMutation(): fc.Arbitrary<BodyMutation> {
  const pathIndex = fc.nat();
  return fc.oneof(
    fc.constant<BodyMutation>({ label: 'unchanged', apply: json }),
    fc.tuple(pathIndex, wrongValue()).map(([index, value]) => ({
      label: `wrong type at path #${index}: ${JSON.stringify(value)?.slice(0, 80)}`,
      apply: (body: Json) => {
        const paths = pathsOf(body);
        return json(paths.length ? setAt(body, paths[index % paths.length]!, value) : value);
      },
    })),
    pathIndex.map((index) => ({
      label: `missing field #${index}`,
      apply: (body: Json) => {
        const paths = pathsOf(body);
        return json(paths.length ? setAt(body, paths[index % paths.length]!, DELETE) : body);
      },
    })),
    fc.tuple(pathIndex, fc.integer({ min: 64 * 1024, max: 2 * 1024 * 1024 })).map(([index, size]) => ({
      label: `huge string (${size} chars) at path #${index}`,
      apply: (body: Json) => {
        const paths = pathsOf(body);
        return json(paths.length ? setAt(body, paths[index % paths.length]!, 'x'.repeat(size)) : body);
      },
    })),
    fc.integer({ min: 1_000, max: 200_000 }).map((depth) => ({
      label: `nesting ${depth} deep`,
      apply: (body: Json) => {
        const text = JSON.stringify(body);
        return Buffer.from(`${text.slice(0, -1)},"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      },
    })),
    fc
      .tuple(
        fc.nat(),
        fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88], [0x80]),
      )
      .map(([at, bytes]) => ({
        label: `invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(' ')} at #${at}`,
        apply: (body: Json) => {
          const text = Buffer.from(JSON.stringify(body));
          // Inside the body, never as its first or last byte (those are braces).
          const position = 1 + (at % Math.max(1, text.length - 2));
          return Buffer.concat([text.subarray(0, position), Buffer.from(bytes), text.subarray(position)]);
        },
      })),
    fc.constantFrom('issue', 'note', 'merge_request', 'work_item', '', 'x'.repeat(100)).map((kind) => ({
      label: `duplicate object_kind ${kind.slice(0, 20)}`,
      apply: (body: Json) =>
        Buffer.from(
          `{"object_kind":${JSON.stringify(kind)},${JSON.stringify(body).slice(1, -1)},"object_kind":"push"}`,
        ),
    })),
    fc.nat().map((at) => ({
      label: `truncated at #${at}`,
      apply: (body: Json) => {
        const text = Buffer.from(JSON.stringify(body));
        return text.subarray(0, at % text.length);
      },
    })),
    fc
      .constantFrom(
        '[]',
        '[{}]',
        '42',
        '"issue"',
        'null',
        '',
        ' ',
        '{',
        '}{',
        '\ufeff{}',
        'object_kind=issue',
      )
      .map((text) => ({ label: `not an object: ${JSON.stringify(text)}`, apply: () => Buffer.from(text) })),
    fc.constantFrom('\ufeff', ' \n\t', '\u0000').map((prefix) => ({
      label: `prefixed with ${JSON.stringify(prefix)}`,
      apply: (body: Json) => Buffer.concat([Buffer.from(prefix), json(body)]),
    })),
  );
}

/** Content types a client may send: GitLab's, case and parameter variants, and wrong ones. */
export const contentType = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json; charset=utf-16',
        'application/json;;;',
        'application/jsonx',
        'application/merge-patch+json',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        'application/octet-stream',
        '*/*',
        'application/json, text/plain',
      ),
    },
  );

export const contentEncoding = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip') },
  );
