import type { FastifyReply, FastifyRequest } from 'fastify';

import type { SimUrls } from '../domain/urls';
import { optionalInt, type Params } from './params';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;
/** Above this many records GitLab stops counting: no x-total, x-total-pages or rel="last". */
export const COUNT_LIMIT = 10_000;

export interface OffsetPage {
  page: number;
  perPage: number;
  offset: number;
}

export function offsetPage(params: Params): OffsetPage {
  const requestedPage = optionalInt(params, 'page') ?? 1;
  const requestedPerPage = optionalInt(params, 'per_page') ?? DEFAULT_PER_PAGE;
  const page = requestedPage < 1 ? 1 : requestedPage;
  const perPage = requestedPerPage < 1 ? DEFAULT_PER_PAGE : Math.min(requestedPerPage, MAX_PER_PAGE);
  return { page, perPage, offset: (page - 1) * perPage };
}

/** The request's own URL with some query parameters replaced; keys sorted like Rails' `to_query`. */
export function pageHref(
  request: FastifyRequest,
  urls: SimUrls,
  replace: Record<string, string | number>,
): string {
  const path = request.url.split('?')[0];
  const query = { ...((request.query ?? {}) as Record<string, unknown>) };
  delete query['private_token'];
  for (const [key, value] of Object.entries(replace)) query[key] = value;
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item === undefined || item === null) continue;
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return `${urls.baseUrl}${path}?${parts.join('&')}`;
}

/**
 * GitLab's offset pagination headers. `total` is null when the query matched more than
 * {@link COUNT_LIMIT} records: then the totals and `rel="last"` are left out.
 */
export function setOffsetHeaders(
  reply: FastifyReply,
  request: FastifyRequest,
  urls: SimUrls,
  page: OffsetPage,
  info: { total: number | null; hasNext: boolean },
): void {
  const { total, hasNext } = info;
  const totalPages = total === null ? null : Math.max(1, Math.ceil(total / page.perPage));
  const next = hasNext ? page.page + 1 : null;
  const prev = page.page > 1 ? page.page - 1 : null;
  const href = (target: number): string => pageHref(request, urls, { page: target, per_page: page.perPage });
  const links: string[] = [];
  if (prev !== null) links.push(`<${href(prev)}>; rel="prev"`);
  if (next !== null) links.push(`<${href(next)}>; rel="next"`);
  links.push(`<${href(1)}>; rel="first"`);
  if (totalPages !== null) links.push(`<${href(totalPages)}>; rel="last"`);
  reply.header('link', links.join(', '));
  reply.header('x-page', String(page.page));
  reply.header('x-per-page', String(page.perPage));
  reply.header('x-next-page', next === null ? '' : String(next));
  reply.header('x-prev-page', prev === null ? '' : String(prev));
  if (total !== null && totalPages !== null) {
    reply.header('x-total', String(total));
    reply.header('x-total-pages', String(totalPages));
  }
}

/** Offset pagination of an in-memory list (notes, labels, hooks, hook events). */
export function paginate<T>(
  reply: FastifyReply,
  request: FastifyRequest,
  urls: SimUrls,
  params: Params,
  items: readonly T[],
): T[] {
  const page = offsetPage(params);
  const slice = items.slice(page.offset, page.offset + page.perPage);
  setOffsetHeaders(reply, request, urls, page, {
    total: items.length > COUNT_LIMIT ? null : items.length,
    hasNext: page.offset + page.perPage < items.length,
  });
  return slice;
}

/** Keyset pagination: only `Link: <…cursor=…>; rel="next"` (and the cursor header) when more remain. */
export function setKeysetHeaders(
  reply: FastifyReply,
  request: FastifyRequest,
  urls: SimUrls,
  perPage: number,
  nextCursor: string | null,
): void {
  reply.header('x-per-page', String(perPage));
  if (nextCursor !== null) {
    reply.header(
      'link',
      `<${pageHref(request, urls, { cursor: nextCursor, per_page: perPage })}>; rel="next"`,
    );
    reply.header('x-next-cursor', nextCursor);
  }
}
