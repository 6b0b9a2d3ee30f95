import fc from 'fast-check';

import type { CoreApp } from './fuzz-world';
import { oddString, wrongValue } from './hostile-input';

/** The ids a route is built from. */
export interface RouteIds {
  projectId: string;
  requirementId: string;
  testCaseId: string;
  defectId: string;
  commentId: string;
}

/** One route of the HTTP API for TestKase core (docs/ARCHITECTURE.md), with a valid body to mutate. */
export interface CoreRoute {
  app: CoreApp;
  method: string;
  path: (ids: RouteIds) => string;
  validBody?: (simUrl: string) => Record<string, unknown>;
  /** Changes a connection: with the right token, only on projects the fuzz made up. */
  destructive?: boolean;
  query?: boolean;
}

const connection = (ids: RouteIds) => `/v1/projects/${ids.projectId}/connection`;
const requirement = (ids: RouteIds) => `/v1/projects/${ids.projectId}/requirements/${ids.requirementId}`;
const testCases = (ids: RouteIds) => `${requirement(ids)}/test-cases`;
const defect = (ids: RouteIds) => `/v1/projects/${ids.projectId}/defects/${ids.defectId}`;
const comments = (ids: RouteIds) => `${defect(ids)}/comments`;

const link = () => ({
  key: 'TC-1',
  title: 'Login works',
  url: 'https://testkase.example/tc/1',
  status: 'passed',
});
const comment = () => ({
  commentId: 'c-1',
  author: 'Ann',
  body: 'Seen on **staging**',
  bodyFormat: 'markdown',
});
const push = () => ({
  title: 'Checkout fails',
  description: 'Steps: …',
  priority: 'Major',
  status: 'Open',
  url: 'https://testkase.example/defects/1',
});

export const CORE_ROUTES: readonly CoreRoute[] = [
  {
    app: 'connection-service',
    method: 'PUT',
    path: connection,
    destructive: true,
    validBody: (simUrl) => ({
      platform: 'gitlab',
      instanceUrl: simUrl,
      projectRef: 'group/project',
      token: 'glpat-fuzz',
    }),
  },
  { app: 'connection-service', method: 'GET', path: connection },
  { app: 'connection-service', method: 'DELETE', path: connection, destructive: true },
  {
    app: 'connection-service',
    method: 'PUT',
    path: (ids) => `${connection(ids)}/token`,
    destructive: true,
    validBody: () => ({ token: 'glpat-fuzz' }),
  },
  { app: 'connection-service', method: 'POST', path: (ids) => `${connection(ids)}/resync` },
  {
    app: 'requirement-sync',
    method: 'GET',
    path: (ids) => `/v1/projects/${ids.projectId}/requirements`,
    query: true,
  },
  { app: 'requirement-sync', method: 'GET', path: requirement },
  { app: 'requirement-sync', method: 'PATCH', path: requirement, validBody: () => ({ priority: 'P1' }) },
  {
    app: 'comment-relay',
    method: 'PUT',
    path: (ids) => `${testCases(ids)}/${ids.testCaseId}`,
    validBody: link,
  },
  { app: 'comment-relay', method: 'DELETE', path: (ids) => `${testCases(ids)}/${ids.testCaseId}` },
  { app: 'comment-relay', method: 'GET', path: testCases },
  { app: 'comment-relay', method: 'POST', path: comments, validBody: comment },
  {
    app: 'comment-relay',
    method: 'PUT',
    path: (ids) => `${comments(ids)}/${ids.commentId}`,
    validBody: comment,
  },
  { app: 'comment-relay', method: 'DELETE', path: (ids) => `${comments(ids)}/${ids.commentId}` },
  { app: 'comment-relay', method: 'GET', path: (ids) => `${comments(ids)}/${ids.commentId}` },
  { app: 'defect-sync', method: 'POST', path: (ids) => `${defect(ids)}/push`, validBody: push },
  {
    app: 'defect-sync',
    method: 'PATCH',
    path: defect,
    validBody: () => ({ title: 'Checkout fails again', status: 'Closed', priority: 'Blocker' }),
  },
  { app: 'defect-sync', method: 'GET', path: defect },
];

/** Path segments sent as they are (not encoded): traversal and broken percent-encoding. */
export const RAW_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2e%2e%2f..',
  '%00',
  '%',
  '%zz',
  '..%2f..%2fhealth',
] as const;

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as any client sends them). */
export const encodeSegment = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** A path segment: a known id, a made-up one, or hostile text (encoded), or a raw odd segment. */
export const segment = (known: readonly string[]): fc.Arbitrary<{ text: string; raw: boolean }> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known).map((text) => ({ text, raw: false })) },
    { weight: 2, arbitrary: fc.uuid().map((text) => ({ text, raw: false })) },
    { weight: 3, arbitrary: oddString().map((text) => ({ text: encodeSegment(text), raw: false })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((text) => ({ text, raw: true })) },
  );

/** A query string for the requirements list: valid values, odd ones and repeated keys. */
export const requirementsQuery = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.constantFrom('status', 'confidential', 'cursor', 'limit', 'x', '__proto__'),
        fc.oneof(
          fc.constantFrom(
            'Active',
            'Deprecated',
            'true',
            'false',
            '1',
            '0',
            '-1',
            '100',
            '1000',
            '1e3',
            'abc',
          ),
          oddString(),
        ),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeSegment(v)}`).join('&')}` : ''));

/** A request body: the route's valid body, mutated, random JSON, broken bytes, or too large. */
export const coreBody = (valid: Record<string, unknown> | undefined): fc.Arbitrary<Buffer | undefined> => {
  const base = valid ?? {};
  const keys = Object.keys(base);
  const mutated = fc.oneof(
    fc.constant(base),
    keys.length
      ? fc.tuple(fc.constantFrom(...keys), wrongValue()).map(([key, value]) => ({ ...base, [key]: value }))
      : fc.constant(base),
    keys.length
      ? fc
          .constantFrom(...keys)
          .map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)))
      : fc.constant(base),
    fc.tuple(fc.string({ maxLength: 12 }), wrongValue()).map(([key, value]) => ({ ...base, [key]: value })),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 5, arbitrary: mutated.map((value) => Buffer.from(JSON.stringify(value))) },
    {
      weight: 2,
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{', '{"a":1,"a":2}', '\u0000', '{"title":"\ud800"}', 'null', '[]', '"x"', '{}}')
        .map((text) => Buffer.from(text)),
    },
    {
      weight: 1,
      arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 3 })
        .map((mib) => Buffer.from(JSON.stringify({ ...base, title: 'x'.repeat(mib * 1024 * 1024) }))),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1_000, max: 100_000 })
        .map((depth) => Buffer.from(`{"title":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    },
  );
};

/** `Authorization` values: the right token (also lower-case `bearer`) and many wrong ones. */
export const authorization = (token: string): fc.Arbitrary<{ value: string | undefined; right: boolean }> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant({ value: `Bearer ${token}`, right: true }) },
    { weight: 1, arbitrary: fc.constant({ value: `bearer ${token}`, right: true }) },
    {
      weight: 5,
      arbitrary: fc
        .constantFrom(
          undefined,
          '',
          'Bearer ',
          'Bearer wrong-token',
          `Bearer ${token}x`,
          `Bearer ${token.slice(0, -1)}`,
          `Bearer  ${token}`,
          `Basic ${Buffer.from(`core:${token}`).toString('base64')}`,
          token,
          `Bearer ${token},${token}`,
          `Bearer ${'a'.repeat(6000)}`,
          `Bearer ${token.toUpperCase()}`,
        )
        .map((value) => ({ value, right: false })),
    },
  );

export const contentTypeForCore = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
      ),
    },
  );
