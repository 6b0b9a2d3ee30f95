import type { FastifyInstance } from 'fastify';

import { GitlabError, insufficientScopeError } from '../domain/gitlab-error';
import { isAtLeast, RELEASES } from '../domain/gitlab-version';
import type { Simulator } from '../simulator';
import type { SimToken, SimUser } from '../store/models';
import { tokenActive } from './auth';
import { paginate } from './pagination';
import { requestParams } from './params';
import { presentCurrentUser, presentToken } from './presenters/user.presenter';
import { requireUser } from './route-helpers';

/**
 * `GET /personal_access_tokens/self` on a GitLab before 15.5, which has no such route
 * (docs/GITLAB.md, "Older GitLab versions"): from 15.1 `self` reaches `GET /personal_access_tokens/:id`
 * as an id that matches no token, so a non-admin gets 401 and an admin 404 (401 before 15.3); before
 * 15.1 nothing matches and the catch-all route answers 404.
 */
function tokenSelfBeforeItExisted(version: string, user: SimUser, token: SimToken): GitlabError {
  if (!isAtLeast(version, RELEASES.tokenById)) return GitlabError.routeNotFound();
  // That route belongs to the tokens API, which only `api` and `read_api` tokens may read.
  if (!token.scopes.some((scope) => scope === 'api' || scope === 'read_api'))
    return insufficientScopeError(['api', 'read_api']);
  return user.admin && isAtLeast(version, RELEASES.tokenByIdAdminNotFound)
    ? GitlabError.notFound()
    : GitlabError.unauthorized();
}

/** `GET /user`, `GET /personal_access_tokens/self`, `GET /personal_access_tokens`, `GET /version`, `GET /metadata`. */
export function registerUserRoutes(app: FastifyInstance, sim: Simulator): void {
  const version = (): string => sim.settings.gitlabVersion;
  const revision = 'sim0000000';

  app.get(
    '/version',
    {
      schema: { tags: ['instance'], summary: 'The GitLab version the simulator claims' },
      config: { auth: { required: true, scopes: 'read_user' } },
    },
    async () => ({ version: version(), revision }),
  );

  app.get(
    '/metadata',
    {
      schema: { tags: ['instance'], summary: 'Instance metadata' },
      config: { auth: { required: true, scopes: 'read_user' } },
    },
    async () => {
      if (!isAtLeast(version(), RELEASES.metadata)) throw GitlabError.routeNotFound();
      return {
        version: version(),
        revision,
        kas: { enabled: false, externalUrl: null, version: null },
        enterprise: false,
      };
    },
  );

  app.get(
    '/user',
    {
      schema: { tags: ['users'], summary: 'The token owner' },
      config: { auth: { required: true, scopes: 'read_user' } },
    },
    async (request) => presentCurrentUser(requireUser(request), sim.urls, sim.clock.now()),
  );

  app.get(
    '/personal_access_tokens/self',
    {
      schema: { tags: ['users'], summary: 'The token used for this request' },
      config: { auth: { required: true, scopes: 'any' } },
    },
    async (request) => {
      const token = request.caller.token;
      if (!token) throw GitlabError.unauthorized();
      if (!isAtLeast(version(), RELEASES.tokenSelf))
        throw tokenSelfBeforeItExisted(version(), requireUser(request), token);
      return presentToken(token, tokenActive(token, sim.clock.now()));
    },
  );

  app.get(
    '/personal_access_tokens',
    {
      schema: {
        tags: ['users'],
        summary: "The caller's tokens (admins: everyone's, or one user's with user_id)",
      },
      config: { auth: { required: true, scopes: 'read' } },
    },
    async (request, reply) => {
      const user = requireUser(request);
      if (!isAtLeast(version(), RELEASES.tokenList)) throw GitlabError.routeNotFound();
      const params = requestParams(request);
      const userIdFilter = params['user_id'] === undefined ? undefined : Number(params['user_id']);
      const now = sim.clock.now();
      const tokens = [...sim.store.tokens.values()].filter((token) =>
        user.admin ? userIdFilter === undefined || token.userId === userIdFilter : token.userId === user.id,
      );
      return paginate(reply, request, sim.urls, params, tokens).map((token) =>
        presentToken(token, tokenActive(token, now)),
      );
    },
  );
}
