import type { FastifyRequest } from 'fastify';

import {
  GitlabError,
  insufficientScopeError,
  invalidTokenError,
  TOKEN_EXPIRED_DESCRIPTION,
  TOKEN_REVOKED_DESCRIPTION,
} from '../domain/gitlab-error';
import { isoDate } from '../domain/time-format';
import type { SimToken, SimUser } from '../store/models';
import type { SimStore } from '../store/sim-store';

/** Which token scopes a route accepts. */
export type ScopeRule = 'read' | 'write' | 'read_user' | 'any';

const ALLOWED_SCOPES: Record<ScopeRule, readonly string[]> = {
  read: ['api', 'read_api'],
  write: ['api'],
  read_user: ['api', 'read_api', 'read_user'],
  any: [],
};

export interface RouteAuth {
  /** When false, anonymous requests pass (and see only public projects). */
  required: boolean;
  scopes: ScopeRule;
}

export interface Caller {
  user: SimUser | null;
  token: SimToken | null;
}

/** `find_personal_access_token`: the `private_token` parameter, then `PRIVATE-TOKEN`, then `Authorization: Bearer`. */
export function tokenFromRequest(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.['private_token'];
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery;
  const header = request.headers['private-token'];
  if (typeof header === 'string' && header) return header;
  const authorization = request.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  return undefined;
}

/** A token expires at the start of its `expires_at` day (UTC). */
export function tokenExpired(token: SimToken, now: number): boolean {
  return token.expiresAt !== null && token.expiresAt <= isoDate(now);
}

export function tokenActive(token: SimToken, now: number): boolean {
  return !token.revoked && !tokenExpired(token, now);
}

/**
 * Authenticates a request the way lib/api/api_guard.rb does: unknown token → 401
 * `{"message":"401 Unauthorized"}`; expired or revoked → rack-oauth2 401 with WWW-Authenticate;
 * a scope the route does not accept → 403 `insufficient_scope`; a blocked user → 403.
 */
export function authenticate(store: SimStore, request: FastifyRequest, auth: RouteAuth): Caller {
  const value = tokenFromRequest(request);
  if (value === undefined) {
    if (auth.required) throw GitlabError.unauthorized();
    return { user: null, token: null };
  }
  const token = store.tokensByValue.get(value);
  const user = token ? store.users.get(token.userId) : undefined;
  if (!token || !user) throw GitlabError.unauthorized();
  const now = store.clock.now();
  if (tokenExpired(token, now)) throw invalidTokenError(TOKEN_EXPIRED_DESCRIPTION);
  if (token.revoked) throw invalidTokenError(TOKEN_REVOKED_DESCRIPTION);
  const allowed = ALLOWED_SCOPES[auth.scopes];
  if (allowed.length > 0 && !token.scopes.some((scope) => allowed.includes(scope)))
    throw insufficientScopeError(allowed);
  if (user.state === 'blocked') throw GitlabError.forbidden('Your account has been blocked.');
  token.lastUsedAt = now;
  return { user, token };
}
