import type { FastifyInstance } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import { normaliseColor, validateLabelTitle } from '../domain/label.service';
import { Permissions } from '../domain/permissions';
import type { Simulator } from '../simulator';
import type { SimLabel, SimProject } from '../store/models';
import { paginate } from './pagination';
import { has, optionalBool, optionalInt, optionalString, requestParams, requiredString } from './params';
import { presentLabel } from './presenters/label.presenter';
import { loadProject, requireNotArchived, requireUser, type ProjectAccess } from './route-helpers';

interface ProjectParams {
  id: string;
}
interface LabelParams extends ProjectParams {
  label_id: string;
}

/** Project labels: list (group labels included), get by id or title, create (409 on any available title), update, delete. */
export function registerLabelRoutes(app: FastifyInstance, sim: Simulator): void {
  const { store } = sim;

  const present = (project: SimProject, labels: SimLabel[]): Record<string, unknown>[] => {
    const counts = sim.labels.counts(project);
    return labels.map((label) => {
      const count = counts.get(label.id);
      return presentLabel(label, { open: count?.open ?? 0, closed: count?.closed ?? 0 });
    });
  };

  /** `find_project_label`: an available label by id, else by title. */
  const findLabel = (project: SimProject, ref: string): SimLabel => {
    const available = store.availableLabels(project);
    const label =
      (/^\d+$/.test(ref) ? available.find((item) => item.id === Number(ref)) : undefined) ??
      available.find((item) => item.title === ref);
    if (!label) throw GitlabError.notFound('Label');
    return label;
  };

  /** `admin_label`; the per-project switch forbids creation only (like a restricted project). */
  const requireLabelAdmin = (access: ProjectAccess, creating = false): void => {
    requireNotArchived(access.project);
    if (!Permissions.adminLabels(access.viewer) || (creating && access.project.labelCreationForbidden))
      throw GitlabError.forbidden();
  };

  app.get<{ Params: ProjectParams }>(
    '/projects/:id/labels',
    { schema: { tags: ['labels'], summary: 'List labels (include_ancestor_groups defaults to true)' } },
    async (request, reply) => {
      const { project } = loadProject(sim, request, request.params.id);
      const params = requestParams(request);
      const includeAncestors = optionalBool(params, 'include_ancestor_groups') ?? true;
      const search = optionalString(params, 'search')?.toLowerCase();
      const labels = (
        includeAncestors
          ? store.availableLabels(project)
          : [...(store.projectLabels.get(project.id)?.values() ?? [])]
      )
        .filter((label) => !search || label.title.toLowerCase().includes(search))
        .sort((a, b) =>
          a.title.toLowerCase() < b.title.toLowerCase()
            ? -1
            : a.title.toLowerCase() > b.title.toLowerCase()
              ? 1
              : a.id - b.id,
        );
      return present(project, paginate(reply, request, sim.urls, params, labels));
    },
  );

  app.get<{ Params: LabelParams }>(
    '/projects/:id/labels/:label_id',
    { schema: { tags: ['labels'], summary: 'One label by id or title' } },
    async (request) => {
      const { project } = loadProject(sim, request, request.params.id);
      return present(project, [findLabel(project, request.params.label_id)])[0];
    },
  );

  app.post<{ Params: ProjectParams }>(
    '/projects/:id/labels',
    { schema: { tags: ['labels'], summary: 'Create a label (409 when any available label has the name)' } },
    async (request, reply) => {
      requireUser(request);
      const params = requestParams(request);
      const name = requiredString(params, 'name');
      const color = requiredString(params, 'color');
      const access = loadProject(sim, request, request.params.id);
      requireLabelAdmin(access, true);
      const label = sim.labels.createProjectLabel(access.project, {
        name,
        color,
        description: optionalString(params, 'description') ?? null,
        priority: optionalInt(params, 'priority') ?? null,
        archived: optionalBool(params, 'archived'),
      });
      reply.code(201);
      return present(access.project, [label])[0];
    },
  );

  app.put<{ Params: LabelParams }>(
    '/projects/:id/labels/:label_id',
    { schema: { tags: ['labels'], summary: 'Update a project label' } },
    async (request) => {
      requireUser(request);
      const params = requestParams(request);
      const fields = ['new_name', 'color', 'description', 'priority', 'archived'];
      if (!fields.some((field) => has(params, field))) {
        throw new GitlabError(400, {
          error: `${fields.join(', ')} are missing, at least one parameter must be provided`,
        });
      }
      const access = loadProject(sim, request, request.params.id);
      requireLabelAdmin(access);
      const label = findLabel(access.project, request.params.label_id);
      if (label.projectId === null) throw GitlabError.forbidden();
      const newName = optionalString(params, 'new_name')?.trim();
      if (newName !== undefined && newName !== label.title) {
        const problems = validateLabelTitle(newName);
        if (problems.length > 0) throw GitlabError.validation({ title: problems });
        if (store.findAvailableLabel(access.project, newName))
          throw GitlabError.validation({ title: ['has already been taken'] });
        store.projectLabels.get(access.project.id)?.delete(label.title);
        label.title = newName;
        store.projectLabels.get(access.project.id)?.set(label.title, label);
      }
      const color = optionalString(params, 'color');
      if (color !== undefined) {
        const normalised = normaliseColor(color);
        if (!normalised) throw GitlabError.validation({ color: ['must be a valid color code'] });
        label.color = normalised;
      }
      if (has(params, 'description')) label.description = optionalString(params, 'description') ?? null;
      if (has(params, 'priority')) label.priority = optionalInt(params, 'priority') ?? null;
      const archived = optionalBool(params, 'archived');
      if (archived !== undefined) label.archived = archived;
      label.updatedAt = sim.clock.now();
      for (const issue of store.issuesOf(access.project.id).byCreatedAt)
        if (issue.labelIds.includes(label.id)) issue.version += 1;
      return present(access.project, [label])[0];
    },
  );

  app.delete<{ Params: LabelParams }>(
    '/projects/:id/labels/:label_id',
    { schema: { tags: ['labels'], summary: 'Delete a project label' } },
    async (request, reply) => {
      requireUser(request);
      const access = loadProject(sim, request, request.params.id);
      requireLabelAdmin(access);
      const label = findLabel(access.project, request.params.label_id);
      if (label.projectId === null) throw GitlabError.forbidden();
      store.projectLabels.get(access.project.id)?.delete(label.title);
      store.labels.delete(label.id);
      const index = store.issuesOf(access.project.id);
      for (const issue of index.byCreatedAt) {
        if (issue.labelIds.includes(label.id)) {
          issue.labelIds = issue.labelIds.filter((id) => id !== label.id);
          issue.version += 1;
        }
      }
      index.changed();
      return reply.code(204).send();
    },
  );
}
