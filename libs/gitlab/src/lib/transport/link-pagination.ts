import { AppError } from '@testkase/util';

import type { GitlabPage } from '../gitlab-rest.types';
import type { GitlabApi, Query } from './gitlab-api';

/** `<https://…?page=2>; rel="next", <…>; rel="first"` → `{ next: 'https://…?page=2', first: … }`. */
export function parseLinkHeader(header: string | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  for (const part of (header ?? '').split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel="?([^";]+)"?/i.exec(match[2] ?? '')?.[1];
    for (const name of rel?.trim().split(/\s+/) ?? []) links[name.toLowerCase()] ??= match[1] ?? '';
  }
  return links;
}

/** `a=1&iids[]=2&iids[]=3` → `{ a: '1', iids: ['2', '3'] }` (the shape gitbeaker re-serialises). */
function queryToObject(search: string): Query {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    if (key.endsWith('[]')) {
      const name = key.slice(0, -2);
      const list = result[name];
      result[name] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      result[key] = value;
    }
  }
  return result;
}

/** Same listing, whatever form (id or encoded path) GitLab used for the project in its links. */
function sameListing(refPath: string, expectedPath: string): boolean {
  const shape = (path: string): string => path.replace(/^projects\/[^/]+/, 'projects/*').replace(/\/+$/, '');
  return shape(refPath) === shape(expectedPath);
}

function refFromLink(link: string, apiBase: URL): string {
  const url = new URL(link, apiBase);
  if (!url.pathname.startsWith(apiBase.pathname)) {
    throw new AppError('GITLAB_REJECTED', 'GitLab sent a pagination link outside its API', {
      details: { path: url.pathname },
    });
  }
  // Only path and query are kept: the next page is always fetched from the configured instance.
  return `${url.pathname.slice(apiBase.pathname.length)}${url.search}`;
}

export interface PageRequest {
  readonly api: GitlabApi;
  readonly apiBase: URL;
  /** Path below `/api/v4/`, encoded. */
  readonly path: string;
  readonly query: Query;
  readonly resumeFrom?: string;
  /** Aborts the listing's requests. */
  readonly signal?: AbortSignal;
}

/**
 * Pages of a list endpoint, following `Link: rel="next"` (offset or keyset alike) until GitLab
 * stops sending one. Never relies on `x-total`/`x-total-pages` (absent above 10,000 records).
 */
export async function* paginate<T>(request: PageRequest): AsyncGenerator<GitlabPage<T>, void, undefined> {
  let path = request.path;
  let query = request.query;
  let current: string | undefined;
  if (request.resumeFrom !== undefined) {
    const [refPath = '', search = ''] = request.resumeFrom.split(/\?(.*)/s);
    if (!sameListing(refPath, request.path)) {
      throw new AppError('VALIDATION_FAILED', 'resumeFrom belongs to another listing', {
        details: { expected: request.path },
      });
    }
    path = refPath;
    query = queryToObject(search);
    current = request.resumeFrom;
  }
  for (;;) {
    const response = await request.api.get<T[]>(path, query, request.signal);
    if (!Array.isArray(response.body)) {
      throw new AppError('INSTANCE_UNREACHABLE', 'Not a GitLab API response (expected a list)', {
        details: { path, cause: 'not a GitLab API response' },
      });
    }
    const link = parseLinkHeader(response.headers['link'])['next'];
    const next = link ? refFromLink(link, request.apiBase) : null;
    if (next !== null && next === current) {
      throw new AppError('GITLAB_REJECTED', 'GitLab pagination points back at the same page', {
        details: { path },
      });
    }
    yield { items: response.body, next };
    if (next === null) return;
    const [nextPath = '', search = ''] = next.split(/\?(.*)/s);
    path = nextPath;
    query = queryToObject(search);
    current = next;
  }
}
