import type { FastifyReply, FastifyRequest } from 'fastify';

import type { Simulator } from '../simulator';
import type { SimUser } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { tokenActive, tokenFromRequest } from './auth';

const PROJECT_ROUTE_PREFIX = '/api/v4/projects/:id';

/**
 * The user a valid token belongs to. Read from the token itself rather than from the route's
 * authentication, because requests that a fault or the request throttle answers never reach it.
 */
function tokenUser(store: SimStore, request: FastifyRequest): SimUser | null {
  const value = tokenFromRequest(request);
  const token = value === undefined ? undefined : store.tokensByValue.get(value);
  if (!token || !tokenActive(token, store.clock.now())) return null;
  return store.users.get(token.userId) ?? null;
}

/** The numeric id of the project a `/projects/:id/…` route names (id or URL-encoded path). */
function routeProjectId(store: SimStore, request: FastifyRequest, route: string | null): number | null {
  if (route === null || !route.startsWith(PROJECT_ROUTE_PREFIX)) return null;
  const ref = (request.params as Record<string, unknown> | undefined)?.['id'];
  return typeof ref === 'string' ? (store.projectByRef(ref)?.id ?? null) : null;
}

/** The query string of a request URL, without the token a client may send in it. */
function queryOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const params = new URLSearchParams(url.slice(start + 1));
  params.delete('private_token');
  return params.toString();
}

/**
 * Logs a REST request on arrival (so requests that are never answered are there too) and fills
 * in its status once the answer has been written ('finish' also fires for hijacked answers such
 * as the streamed issue lists; it never fires for timeouts and dropped connections).
 */
export function recordApiRequest(
  sim: Simulator,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
): void {
  const route = request.routeOptions.url ?? null;
  const record = sim.apiRequests.add({
    at: performance.timeOrigin + performance.now(),
    method: request.method,
    path,
    query: queryOf(request.url),
    route,
    status: null,
    username: tokenUser(sim.store, request)?.username ?? null,
    projectId: routeProjectId(sim.store, request, route),
  });
  reply.raw.once('finish', () => {
    record.status = reply.raw.statusCode;
  });
}
