import type { FastifyInstance } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import { Permissions } from '../domain/permissions';
import type { Simulator } from '../simulator';
import type { SimMember, SimProject, SimUser } from '../store/models';
import { paginate } from './pagination';
import { pathInt, requestParams } from './params';
import { presentProject } from './presenters/project.presenter';
import { presentMember } from './presenters/user.presenter';
import { loadProject, type ProjectAccess } from './route-helpers';

interface ProjectParams {
  id: string;
}

/** `GET /projects/:id` and the members endpoints. */
export function registerProjectRoutes(app: FastifyInstance, sim: Simulator): void {
  const { store, urls } = sim;

  const effectiveMembers = (project: SimProject): Map<number, SimMember> => {
    const members = new Map<number, SimMember>();
    for (const [userId, member] of store.projectMembers.get(project.id) ?? []) members.set(userId, member);
    for (const group of store.groupChain(project.namespaceId)) {
      for (const [userId, member] of store.groupMembers.get(group.id) ?? []) {
        const current = members.get(userId);
        if (!current || member.accessLevel > current.accessLevel) members.set(userId, member);
      }
    }
    return members;
  };

  const memberEntity = (access: ProjectAccess, user: SimUser, member: SimMember): Record<string, unknown> => {
    const viewer = access.viewer;
    const showEmail = viewer.admin || viewer.user?.id === user.id;
    const createdBy = member.createdById === null ? undefined : store.users.get(member.createdById);
    return presentMember(user, member, createdBy, urls, showEmail);
  };

  app.get<{ Params: ProjectParams }>(
    '/projects/:id',
    { schema: { tags: ['projects'], summary: 'A project by id or URL-encoded path' } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      const { project, viewer } = access;
      const direct = viewer.user ? store.projectMembers.get(project.id)?.get(viewer.user.id) : undefined;
      let groupLevel: number | null = null;
      if (viewer.user) {
        for (const group of store.groupChain(project.namespaceId)) {
          const member = store.groupMembers.get(group.id)?.get(viewer.user.id);
          if (member && (groupLevel === null || member.accessLevel > groupLevel))
            groupLevel = member.accessLevel;
        }
      }
      let openIssues = 0;
      for (const issue of store.issuesOf(project.id).byCreatedAt) {
        if (issue.state === 'opened' && Permissions.readIssue(issue, viewer)) openIssues += 1;
      }
      return presentProject(
        project,
        store.groups.get(project.namespaceId),
        viewer,
        direct?.accessLevel ?? null,
        groupLevel,
        openIssues,
        urls,
      );
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/projects/:id/members/all',
    { schema: { tags: ['projects'], summary: 'Effective members, inherited ones included' } },
    async (request, reply) => {
      const access = loadProject(sim, request, request.params.id);
      const members = [...effectiveMembers(access.project)].sort(([a], [b]) => a - b);
      const page = paginate(reply, request, urls, requestParams(request), members);
      return page.flatMap(([userId, member]) => {
        const user = store.users.get(userId);
        return user ? [memberEntity(access, user, member)] : [];
      });
    },
  );

  app.get<{ Params: ProjectParams & { user_id: string } }>(
    '/projects/:id/members/all/:user_id',
    { schema: { tags: ['projects'], summary: "A user's effective membership (highest access level wins)" } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      const userId = pathInt(request.params.user_id, 'user_id');
      const user = store.users.get(userId);
      const member = user ? store.effectiveMembership(access.project, userId) : undefined;
      if (!user || !member) throw GitlabError.notFound();
      return memberEntity(access, user, member);
    },
  );

  app.get<{ Params: ProjectParams & { user_id: string } }>(
    '/projects/:id/members/:user_id',
    { schema: { tags: ['projects'], summary: 'A direct member of the project' } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      const userId = pathInt(request.params.user_id, 'user_id');
      const user = store.users.get(userId);
      const member = store.projectMembers.get(access.project.id)?.get(userId);
      if (!user || !member) throw GitlabError.notFound();
      return memberEntity(access, user, member);
    },
  );
}
