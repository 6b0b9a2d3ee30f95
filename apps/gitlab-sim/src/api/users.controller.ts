import type { FastifyInstance } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import type { Simulator } from '../simulator';
import { tokenActive } from './auth';
import { paginate } from './pagination';
import { requestParams } from './params';
import { presentCurrentUser, presentToken } from './presenters/user.presenter';
import { requireUser } from './route-helpers';

/** `GET /user`, `GET /personal_access_tokens/self`, `GET /personal_access_tokens`, `GET /version`, `GET /metadata`. */
export function registerUserRoutes(app: FastifyInstance, sim: Simulator): void {
  const version = sim.config.GITLAB_SIM_VERSION;
  const revision = 'sim0000000';

  app.get(
    '/version',
    {
      schema: { tags: ['instance'], summary: 'The GitLab version the simulator claims' },
      config: { auth: { required: true, scopes: 'read_user' } },
    },
    async () => ({ version, revision }),
  );

  app.get(
    '/metadata',
    {
      schema: { tags: ['instance'], summary: 'Instance metadata' },
      config: { auth: { required: true, scopes: 'read_user' } },
    },
    async () => ({
      version,
      revision,
      kas: { enabled: false, externalUrl: null, version: null },
      enterprise: false,
    }),
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
