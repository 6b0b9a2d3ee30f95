import type { FastifyInstance, FastifyRequest } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import type { Simulator } from '../simulator';
import { authenticate, type Caller, type RouteAuth } from './auth';
import { registerHookRoutes } from './hooks.controller';
import { registerIssueRoutes } from './issues.controller';
import { registerLabelRoutes } from './labels.controller';
import { registerNoteRoutes } from './notes.controller';
import { registerProjectRoutes } from './projects.controller';
import { rateLimitHeaders } from './rate-limiter';
import { registerUserRoutes } from './users.controller';

/** GET routes accept anonymous callers (public projects) and read scopes; writes need an `api` token. */
function routeAuth(request: FastifyRequest): RouteAuth {
  const configured = request.routeOptions.config.auth;
  if (configured) return configured;
  return request.method === 'GET' || request.method === 'HEAD'
    ? { required: false, scopes: 'read' }
    : { required: true, scopes: 'write' };
}

/** GitLab's REST API v4, mounted under /api/v4. */
export async function apiPlugin(app: FastifyInstance, options: { sim: Simulator }): Promise<void> {
  const { sim } = options;
  // Set by the preHandler below on every request of this plugin.
  app.decorateRequest('caller', null as unknown as Caller);

  app.addHook('preHandler', async (request, reply) => {
    request.caller = authenticate(sim.store, request, routeAuth(request));
    const limit = sim.settings.rateLimits.requestsPerMinute;
    const user = request.caller.user;
    if (limit === null || !user) return;
    // Rack::Attack `throttle_authenticated_api`: headers on every response, plain-text 429 when over.
    const decision = sim.rateLimiter.hit(`throttle_authenticated_api:${user.id}`, limit);
    const headers = rateLimitHeaders('throttle_authenticated_api', decision);
    if (!decision.allowed)
      throw new GitlabError(429, 'Retry later\n', { ...headers, 'Retry-After': String(decision.retryAfter) });
    reply.headers(headers);
  });

  registerUserRoutes(app, sim);
  registerProjectRoutes(app, sim);
  registerIssueRoutes(app, sim);
  registerNoteRoutes(app, sim);
  registerLabelRoutes(app, sim);
  registerHookRoutes(app, sim);
}
