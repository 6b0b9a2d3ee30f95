import type { FastifyInstance, FastifyRequest } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import {
  InvalidCursorError,
  ISSUE_ORDER_BY,
  KEYSET_ORDER_BY,
  type IssueFilter,
  type LabelFilter,
} from '../domain/issue-query';
import type { IssueCreateInput, IssueUpdateInput } from '../domain/issue.service';
import { Permissions } from '../domain/permissions';
import type { CaptchaAnswer } from '../domain/spam-check';
import type { Simulator } from '../simulator';
import {
  ACCESS_LEVELS,
  REST_ISSUE_TYPES,
  type SimIssue,
  type SimProject,
  type WorkItemType,
} from '../store/models';
import { COUNT_LIMIT, offsetPage, setKeysetHeaders, setOffsetHeaders } from './pagination';
import {
  has,
  optionalBool,
  optionalDate,
  optionalEnum,
  optionalInt,
  optionalIntList,
  optionalList,
  optionalString,
  optionalTime,
  requestParams,
  requiredString,
  type Params,
} from './params';
import { ISSUE_TYPE_NAME } from './presenters/issue.presenter';
import { textColorFor } from './presenters/label.presenter';
import { APPLICATION_RATE_LIMIT_BODY } from './rate-limiter';
import {
  eventContext,
  issueRights,
  loadIssue,
  loadProject,
  requireIssuesEnabled,
  requireNotArchived,
  requireUser,
  sendJsonArrayParts,
  type ProjectAccess,
} from './route-helpers';

interface ProjectParams {
  id: string;
}
interface IssueParams extends ProjectParams {
  issue_iid: string;
}

const REST_TYPE_BY_NAME = new Map<string, WorkItemType>(
  REST_ISSUE_TYPES.map((type) => [ISSUE_TYPE_NAME[type], type]),
);

/** `API::Helpers::IssuesHelpers.update_params_at_least_one_of`. */
const UPDATE_PARAMS = [
  'assignee_id',
  'assignee_ids',
  'confidential',
  'created_at',
  'description',
  'discussion_locked',
  'due_date',
  'labels',
  'add_labels',
  'remove_labels',
  'milestone_id',
  'state_event',
  'title',
  'issue_type',
];

/** Grape's `at_least_one_of` message. */
const AT_LEAST_ONE_MESSAGE = `${UPDATE_PARAMS.join(', ')} are missing, at least one parameter must be provided`;

function labelFilter(
  sim: Simulator,
  project: SimProject,
  titles: string[] | undefined,
): LabelFilter | undefined {
  if (titles === undefined || titles.length === 0) return undefined;
  if (titles.length === 1 && titles[0].toLowerCase() === 'none') return { kind: 'none' };
  if (titles.length === 1 && titles[0].toLowerCase() === 'any') return { kind: 'any' };
  const ids: number[] = [];
  for (const title of titles) {
    const label = sim.store.findAvailableLabel(project, title);
    if (!label) return { kind: 'impossible' };
    ids.push(label.id);
  }
  return { kind: 'all', ids };
}

function buildFilter(sim: Simulator, access: ProjectAccess, params: Params): IssueFilter {
  const { project, viewer } = access;
  const state = optionalEnum(params, 'state', ['opened', 'closed', 'all'] as const);
  const scope =
    optionalEnum(params, 'scope', [
      'created_by_me',
      'assigned_to_me',
      'all',
      'created-by-me',
      'assigned-to-me',
    ] as const) ?? 'all';
  const issueType = optionalEnum(params, 'issue_type', ['issue', 'incident', 'test_case', 'task'] as const);
  const search = optionalString(params, 'search');
  const searchIn = optionalList(params, 'in') ?? ['title', 'description'];
  const assigneeText = optionalString(params, 'assignee_id');
  let assignee: IssueFilter['assignee'];
  if (assigneeText !== undefined && assigneeText !== '') {
    if (assigneeText.toLowerCase() === 'none') assignee = 'none';
    else if (assigneeText.toLowerCase() === 'any') assignee = 'any';
    else assignee = optionalInt(params, 'assignee_id');
  }
  const viewerId = viewer.user?.id ?? null;
  let authorId = optionalInt(params, 'author_id');
  if (scope === 'created_by_me' || scope === 'created-by-me') authorId = viewerId ?? -1;
  if (scope === 'assigned_to_me' || scope === 'assigned-to-me') assignee = viewerId ?? -1;
  const notLabels = optionalList(params, 'not[labels]');
  const iids = optionalIntList(params, 'iids');
  const filter: IssueFilter = {
    state: state === 'all' ? undefined : state,
    labels: labelFilter(sim, project, optionalList(params, 'labels')),
    notLabelIds: notLabels?.flatMap((title) => sim.store.findAvailableLabel(project, title)?.id ?? []),
    createdAfter: optionalTime(params, 'created_after'),
    createdBefore: optionalTime(params, 'created_before'),
    updatedAfter: optionalTime(params, 'updated_after'),
    updatedBefore: optionalTime(params, 'updated_before'),
    search: search
      ? {
          text: search.toLowerCase(),
          inTitle: searchIn.includes('title'),
          inDescription: searchIn.includes('description'),
        }
      : undefined,
    iids: iids ? new Set(iids) : undefined,
    types: new Set(
      issueType ? REST_ISSUE_TYPES.filter((type) => ISSUE_TYPE_NAME[type] === issueType) : REST_ISSUE_TYPES,
    ),
    confidential: optionalBool(params, 'confidential'),
    authorId,
    assignee,
    seesAllConfidential: viewer.admin || viewer.level >= ACCESS_LEVELS.planner,
    viewerId,
  };
  return filter;
}

/** `with_labels_details=true`: label objects instead of titles. */
function withLabelDetails(sim: Simulator, issue: SimIssue, entityJson: string): Record<string, unknown> {
  const entity = JSON.parse(entityJson) as Record<string, unknown>;
  entity['labels'] = issue.labelIds
    .flatMap((id) => sim.store.labels.get(id) ?? [])
    .sort((a, b) => (a.title < b.title ? -1 : 1))
    .map((label) => ({
      id: label.id,
      name: label.title,
      color: label.color,
      description: label.description,
      description_html: label.description ?? '',
      text_color: textColorFor(label.color),
    }));
  return entity;
}

/** The solved CAPTCHA a client resubmits after a 409 (SpamParams reads these two headers). */
function captchaAnswer(request: FastifyRequest): CaptchaAnswer {
  const response = request.headers['x-gitlab-captcha-response'];
  const spamLogId = request.headers['x-gitlab-spam-log-id'];
  return {
    response: typeof response === 'string' && response !== '' ? response : undefined,
    spamLogId: typeof spamLogId === 'string' && /^\d+$/.test(spamLogId) ? Number(spamLogId) : undefined,
  };
}

/** Project issues: list (offset and keyset), get, create, update, delete. */
export function registerIssueRoutes(app: FastifyInstance, sim: Simulator): void {
  const { store, urls, issuePresenter } = sim;

  app.get<{ Params: ProjectParams }>(
    '/projects/:id/issues',
    { schema: { tags: ['issues'], summary: 'List project issues (offset or keyset pagination)' } },
    async (request, reply) => {
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const params = requestParams(request);
      const filter = buildFilter(sim, access, params);
      const orderBy = optionalEnum(params, 'order_by', ISSUE_ORDER_BY) ?? 'created_at';
      const sort = optionalEnum(params, 'sort', ['asc', 'desc'] as const) ?? 'desc';
      const details = optionalBool(params, 'with_labels_details') ?? false;
      const page = offsetPage(params);
      let items: SimIssue[];
      if (optionalEnum(params, 'pagination', ['keyset', 'offset'] as const) === 'keyset') {
        if (!KEYSET_ORDER_BY.includes(orderBy))
          throw GitlabError.methodNotAllowed(
            'Keyset pagination is not yet available for this type of request',
          );
        try {
          const result = sim.issueQuery.keyset(
            access.project.id,
            filter,
            orderBy,
            sort,
            optionalString(params, 'cursor'),
            page.perPage,
          );
          items = result.items;
          setKeysetHeaders(reply, request, urls, page.perPage, result.nextCursor);
        } catch (error) {
          if (error instanceof InvalidCursorError) throw GitlabError.badRequest('Invalid cursor parameter');
          throw error;
        }
      } else {
        const limit = sim.settings.offsetPaginationLimit;
        if (limit > 0 && page.page * page.perPage > limit) {
          throw GitlabError.methodNotAllowed(
            `Offset pagination has a maximum allowed offset of ${limit} for requests that return objects of type Issue. Remaining records can be retrieved using keyset pagination.`,
          );
        }
        const result = sim.issueQuery.offset(
          access.project.id,
          filter,
          orderBy,
          sort,
          page.offset,
          page.perPage,
          COUNT_LIMIT,
        );
        items = result.items;
        setOffsetHeaders(reply, request, urls, page, { total: result.total, hasNext: result.hasNext });
      }
      const project = access.project;
      if (details)
        return items.map((issue) =>
          withLabelDetails(sim, issue, issuePresenter.listItemJson(issue, project).toString('utf8')),
        );
      return sendJsonArrayParts(sim, request, reply, issuePresenter.listParts(items, project));
    },
  );

  app.get<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid',
    { schema: { tags: ['issues'], summary: 'One issue by its project-scoped iid' } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid);
      return issuePresenter.single(issue, access.project, access.viewer.user?.id ?? null);
    },
  );

  app.post<{ Params: ProjectParams }>(
    '/projects/:id/issues',
    { schema: { tags: ['issues'], summary: 'Create an issue (labels that do not exist are created)' } },
    async (request, reply) => {
      const user = requireUser(request);
      const params = requestParams(request);
      const title = requiredString(params, 'title');
      const access = loadProject(sim, request, request.params.id);
      const { project, viewer } = access;
      requireIssuesEnabled(project);
      requireNotArchived(project);
      if (!Permissions.createIssue(project, viewer)) throw GitlabError.forbidden();
      const limit = sim.settings.rateLimits.issueCreatesPerMinute;
      if (limit !== null) {
        const decision = sim.rateLimiter.hit(`issues_create:${user.id}`, limit);
        if (!decision.allowed)
          throw new GitlabError(429, APPLICATION_RATE_LIMIT_BODY, {
            'Retry-After': String(decision.retryAfter),
          });
      }
      const issueType = optionalEnum(params, 'issue_type', [
        'issue',
        'incident',
        'test_case',
        'task',
      ] as const);
      const mayBackdate = viewer.admin || viewer.level >= ACCESS_LEVELS.owner;
      const assigneeIds =
        optionalIntList(params, 'assignee_ids') ??
        (has(params, 'assignee_id') ? [optionalInt(params, 'assignee_id') ?? 0] : undefined);
      const description = optionalString(params, 'description') ?? null;
      sim.spamCheck.check(project, user, { title, description }, captchaAnswer(request));
      const input: IssueCreateInput = {
        title,
        description,
        labels: optionalList(params, 'labels'),
        confidential: optionalBool(params, 'confidential'),
        assigneeIds: assigneeIds?.filter((id) => store.users.has(id)),
        dueDate: optionalDate(params, 'due_date'),
        type: issueType ? REST_TYPE_BY_NAME.get(issueType) : undefined,
        createdAt: mayBackdate ? optionalTime(params, 'created_at') : undefined,
        weight: optionalInt(params, 'weight') ?? null,
        discussionLocked: optionalBool(params, 'discussion_locked'),
      };
      const issue = sim.issues.create(
        eventContext(request, user),
        project,
        input,
        issueRights(project, viewer),
      );
      reply.code(201);
      return issuePresenter.single(issue, project, user.id);
    },
  );

  app.put<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid',
    {
      schema: {
        tags: ['issues'],
        summary: 'Update an issue (title, description, state_event, labels, add_labels, remove_labels, …)',
      },
    },
    async (request) => {
      const user = requireUser(request);
      const params = requestParams(request);
      if (!UPDATE_PARAMS.some((name) => has(params, name) || has(params, `${name}[]`)))
        throw new GitlabError(400, { error: AT_LEAST_ONE_MESSAGE });
      const stateEvent = optionalEnum(params, 'state_event', ['close', 'reopen'] as const);
      const access = loadProject(sim, request, request.params.id);
      const { project, viewer } = access;
      requireIssuesEnabled(project);
      const issue = loadIssue(sim, access, request.params.issue_iid);
      requireNotArchived(project);
      if (!Permissions.updateIssue(issue, viewer)) throw GitlabError.forbidden();
      const issueType = optionalEnum(params, 'issue_type', [
        'issue',
        'incident',
        'test_case',
        'task',
      ] as const);
      const assigneeIds =
        optionalIntList(params, 'assignee_ids') ??
        (has(params, 'assignee_id') ? [optionalInt(params, 'assignee_id') ?? 0].filter(Boolean) : undefined);
      const input: IssueUpdateInput = {
        title: optionalString(params, 'title'),
        description: optionalString(params, 'description'),
        stateEvent,
        labels:
          has(params, 'labels') || has(params, 'labels[]')
            ? (optionalList(params, 'labels') ?? [])
            : undefined,
        addLabels: optionalList(params, 'add_labels'),
        removeLabels: optionalList(params, 'remove_labels'),
        confidential: optionalBool(params, 'confidential'),
        assigneeIds: assigneeIds?.filter((id) => store.users.has(id)),
        dueDate: optionalDate(params, 'due_date'),
        discussionLocked: optionalBool(params, 'discussion_locked'),
        type: issueType ? REST_TYPE_BY_NAME.get(issueType) : undefined,
        weight: has(params, 'weight') ? (optionalInt(params, 'weight') ?? null) : undefined,
      };
      if (input.title !== undefined || input.description !== undefined)
        sim.spamCheck.check(
          project,
          user,
          {
            title: input.title ?? issue.title,
            description: input.description === undefined ? issue.description : input.description,
          },
          captchaAnswer(request),
        );
      sim.issues.update(
        eventContext(request, user),
        project,
        issue,
        input,
        issueRights(project, viewer, issue),
      );
      return issuePresenter.single(issue, project, user.id);
    },
  );

  /**
   * `GET /projects/:id/issues_statistics` (`issues_stats_params`: no `state` or `issue_type`; the
   * types the issues API serves are counted): `{statistics: {counts: {all, closed, opened}}}`.
   */
  app.get<{ Params: ProjectParams }>(
    '/projects/:id/issues_statistics',
    { schema: { tags: ['issues'], summary: 'Counts of the project issues matching the filters' } },
    async (request) => {
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const { state: _state, issue_type: _type, ...params } = requestParams(request);
      const counts = sim.issueQuery.count(access.project.id, buildFilter(sim, access, params));
      return { statistics: { counts: { all: counts.opened + counts.closed, ...counts } } };
    },
  );

  /**
   * `POST /projects/:id/issues/:issue_iid/move` (`to_project_id`): 201 with the new issue; the
   * original is closed and points at it (docs/GITLAB.md, "Moved, deleted and retyped issues").
   */
  app.post<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid/move',
    { schema: { tags: ['issues'], summary: 'Move an issue to another project' } },
    async (request, reply) => {
      const user = requireUser(request);
      const params = requestParams(request);
      if (!has(params, 'to_project_id')) throw GitlabError.missing('to_project_id');
      const toProjectId = optionalInt(params, 'to_project_id');
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      // `user_project.issues.find_by(iid:)` then `not_found!('Issue')`.
      const iid = Number(request.params.issue_iid);
      const issue = Number.isSafeInteger(iid) ? store.issuesOf(access.project.id).byIid.get(iid) : undefined;
      if (!issue || !REST_ISSUE_TYPES.includes(issue.type)) throw GitlabError.notFound('Issue');
      const target = toProjectId === undefined ? undefined : store.projects.get(toProjectId);
      if (!target) throw GitlabError.notFound('Project');
      requireNotArchived(access.project);
      const moved = sim.cloner.move(eventContext(request, user), access.project, issue, target);
      reply.code(201);
      return issuePresenter.single(moved, target, user.id);
    },
  );

  app.delete<{ Params: IssueParams }>(
    '/projects/:id/issues/:issue_iid',
    { schema: { tags: ['issues'], summary: 'Delete an issue (project owners and admins)' } },
    async (request, reply) => {
      requireUser(request);
      const access = loadProject(sim, request, request.params.id);
      requireIssuesEnabled(access.project);
      const issue = loadIssue(sim, access, request.params.issue_iid);
      requireNotArchived(access.project);
      if (!Permissions.deleteIssue(access.viewer)) throw GitlabError.forbidden();
      sim.issues.delete(issue);
      return reply.code(204).send();
    },
  );
}
