import type { FastifyInstance } from 'fastify';

import { tokenHint } from '@testkase/util';

import { tokenActive } from '../api/auth';
import {
  optionalBool,
  optionalDate,
  optionalEnum,
  optionalInt,
  optionalList,
  optionalString,
  optionalTime,
  requiredString,
  type Params,
} from '../api/params';
import { presentNote } from '../api/presenters/note.presenter';
import { GitlabError } from '../domain/gitlab-error';
import { GITLAB_VERSION_PATTERN } from '../domain/gitlab-version';
import { ALL_RIGHTS, type IssueUpdateInput } from '../domain/issue.service';
import { rateLimitPreset, type RateLimitSettings } from '../domain/sim-settings';
import { DEFAULT_CAPTCHA_SITE_KEY } from '../domain/spam-check';
import { isoDate } from '../domain/time-format';
import { MAX_API_REQUEST_RECORDS } from '../observability/api-request-log';
import type { Simulator } from '../simulator';
import {
  WORK_ITEM_TYPES,
  type DeliveryRecord,
  type SimIssue,
  type SimProject,
  type SimUser,
  type SpamCheckSetting,
  type Visibility,
  type WorkItemType,
} from '../store/models';
import { alertStatus, recordSuccess } from '../webhooks/auto-disabling';
import { FAULT_KINDS, FAULT_PHASES } from './fault-injector';

const VISIBILITIES = ['private', 'internal', 'public'] as const;
/** `GET /__sim/api-requests` without `limit`: the newest 10,000 matching requests. */
const DEFAULT_API_REQUEST_LIMIT = 10_000;

const body = (value: unknown): Params =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Params) : {};

function optionalNumber(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) throw GitlabError.invalid(name);
  return number;
}

/** `null` switches a limit off; a number sets it; absent leaves it. */
function limitValue(params: Params, name: keyof RateLimitSettings): number | null | undefined {
  if (!(name in params)) return undefined;
  const value = params[name];
  if (value === null || value === 0 || value === 'off') return null;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw GitlabError.invalid(name);
  return number;
}

/** `spamCheck: {keywords, captcha?, captchaSiteKey?}` or null (no spam). */
function spamCheckFrom(value: unknown): SpamCheckSetting | null {
  if (value === null) return null;
  const params = body(value);
  const keywords = params['keywords'];
  if (
    !Array.isArray(keywords) ||
    keywords.length === 0 ||
    !keywords.every((keyword) => typeof keyword === 'string' && keyword.trim() !== '')
  )
    throw new GitlabError(400, {
      error: 'spamCheck.keywords must be a non-empty array of non-blank strings',
    });
  const captcha = params['captcha'] ?? false;
  if (typeof captcha !== 'boolean')
    throw new GitlabError(400, { error: 'spamCheck.captcha must be a boolean' });
  const siteKey = params['captchaSiteKey'] ?? DEFAULT_CAPTCHA_SITE_KEY;
  if (typeof siteKey !== 'string' || siteKey === '')
    throw new GitlabError(400, { error: 'spamCheck.captchaSiteKey must be a non-empty string' });
  return { keywords: keywords.map((keyword: string) => keyword.trim()), captcha, captchaSiteKey: siteKey };
}

/**
 * The control API under /__sim: seed, act as a user, inject faults, steer webhooks, read state.
 * JSON in and out, no authentication (it is a test tool; never expose it).
 */
export async function controlPlugin(app: FastifyInstance, options: { sim: Simulator }): Promise<void> {
  const { sim } = options;
  const { store, seeder } = sim;

  const userFrom = (params: Params, key = 'as'): SimUser => {
    const userId = optionalInt(params, 'userId');
    const username = optionalString(params, key) ?? optionalString(params, 'username');
    const user =
      userId !== undefined
        ? store.users.get(userId)
        : username !== undefined
          ? store.userByUsername(username)
          : undefined;
    if (!user)
      throw new GitlabError(404, { error: `user not found (give "${key}" as a username or "userId")` });
    return user;
  };

  const projectFrom = (ref: string): SimProject => {
    const project = store.projectByRef(ref);
    if (!project) throw new GitlabError(404, { error: `project ${ref} not found` });
    return project;
  };

  const issueFrom = (project: SimProject, iidText: string): SimIssue => {
    const issue = /^\d+$/.test(iidText) ? store.issuesOf(project.id).byIid.get(Number(iidText)) : undefined;
    if (!issue)
      throw new GitlabError(404, { error: `issue ${iidText} not found in ${project.pathWithNamespace}` });
    return issue;
  };

  const usersFrom = (params: Params, key: string): number[] | undefined =>
    optionalList(params, key)?.map((username) => {
      const user = store.userByUsername(username.replace(/^@/, ''));
      if (!user) throw new GitlabError(404, { error: `user ${username} not found` });
      return user.id;
    });

  const issueView = (issue: SimIssue, project: SimProject): Record<string, unknown> =>
    sim.issuePresenter.single(issue, project, null);

  const deliveryView = (record: DeliveryRecord): Record<string, unknown> => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.requestHeaders))
      headers[name] = name.toLowerCase() === 'x-gitlab-token' ? '[REDACTED]' : value;
    let payload: unknown = record.body;
    try {
      payload = JSON.parse(record.body);
    } catch {
      // custom templates may render non-JSON; keep the text
    }
    return {
      id: record.id,
      hookId: record.hookId,
      projectId: record.projectId,
      url: record.url,
      event: record.event,
      trigger: record.trigger,
      idempotencyKey: record.idempotencyKey,
      eventUuid: record.eventUuid,
      webhookUuid: record.webhookUuid,
      resendOf: record.resendOf,
      sentAt: record.sentAt,
      durationMs: record.durationMs,
      responseStatus: record.responseStatus,
      outcome: record.outcome,
      error: record.error,
      requestHeaders: headers,
      payload,
    };
  };

  // Lifecycle, settings, clock

  app.post('/reset', async (request) => {
    const params = body(request.body);
    sim.reset({ resetClock: optionalBool(params, 'resetClock') ?? false });
    const demo = optionalBool(params, 'demo') ?? false;
    if (demo) seeder.seedDemo();
    return { ok: true, demo };
  });

  app.get('/settings', async () => ({ ...sim.settings }));

  app.patch('/settings', async (request) => {
    const params = body(request.body);
    const legacy = optionalBool(params, 'legacyPayloads');
    if (legacy !== undefined) sim.settings.legacyPayloads = legacy;
    const offsetLimit = optionalInt(params, 'offsetPaginationLimit');
    if (offsetLimit !== undefined) sim.settings.offsetPaginationLimit = Math.max(0, offsetLimit);
    const autoDisable = optionalBool(params, 'autoDisableHooks');
    if (autoDisable !== undefined) sim.settings.autoDisableHooks = autoDisable;
    const timeout = optionalInt(params, 'deliveryTimeoutMs');
    if (timeout !== undefined) sim.settings.deliveryTimeoutMs = Math.max(1, timeout);
    const signing = optionalBool(params, 'webhookSigningTokens');
    if (signing !== undefined) sim.settings.webhookSigningTokens = signing;
    const version = optionalString(params, 'gitlabVersion');
    if (version !== undefined) {
      if (!GITLAB_VERSION_PATTERN.test(version))
        throw new GitlabError(400, { error: 'gitlabVersion must look like 15.4.0 or 15.4.6-ee' });
      sim.settings.gitlabVersion = version;
    }
    return { ...sim.settings };
  });

  app.get('/rate-limits', async () => ({ ...sim.settings.rateLimits }));

  app.put('/rate-limits', async (request) => {
    const params = body(request.body);
    const preset = optionalEnum(params, 'preset', ['off', 'gitlab.com'] as const);
    const next: RateLimitSettings = preset ? rateLimitPreset(preset) : { ...sim.settings.rateLimits };
    for (const name of [
      'requestsPerMinute',
      'issueCreatesPerMinute',
      'noteCreatesPerMinute',
      'hookTestsPerMinute',
    ] as const) {
      const value = limitValue(params, name);
      if (value !== undefined) next[name] = value;
    }
    sim.settings.rateLimits = next;
    sim.rateLimiter.reset();
    return { ...next };
  });

  app.get('/clock', async () => ({ now: sim.clock.now(), offsetMs: sim.clock.offset }));

  app.post('/clock/advance', async (request) => {
    const ms = optionalNumber(body(request.body), 'ms');
    if (ms === undefined || ms < 0) throw new GitlabError(400, { error: 'ms must be a non-negative number' });
    sim.clock.advance(ms);
    return { now: sim.clock.now(), offsetMs: sim.clock.offset };
  });

  app.post('/clock/reset', async () => {
    sim.clock.reset();
    return { now: sim.clock.now(), offsetMs: 0 };
  });

  // Users, tokens, groups, projects, members, labels

  app.post('/users', async (request, reply) => {
    const params = body(request.body);
    const user = seeder.createUser({
      username: requiredString(params, 'username'),
      name: optionalString(params, 'name'),
      email: optionalString(params, 'email'),
      publicEmail: optionalString(params, 'publicEmail') ?? null,
      admin: optionalBool(params, 'admin'),
      bot: optionalBool(params, 'bot'),
      state: optionalEnum(params, 'state', ['active', 'blocked'] as const),
    });
    reply.code(201);
    return {
      id: user.id,
      username: user.username,
      name: user.name,
      email: user.email,
      admin: user.admin,
      state: user.state,
    };
  });

  app.patch<{ Params: { username: string } }>('/users/:username', async (request) => {
    const user = store.userByUsername(request.params.username);
    if (!user) throw new GitlabError(404, { error: `user ${request.params.username} not found` });
    const params = body(request.body);
    const state = optionalEnum(params, 'state', ['active', 'blocked'] as const);
    if (state) user.state = state;
    const admin = optionalBool(params, 'admin');
    if (admin !== undefined) user.admin = admin;
    const name = optionalString(params, 'name');
    if (name !== undefined) user.name = name;
    if ('publicEmail' in params) user.publicEmail = optionalString(params, 'publicEmail') || null;
    return { id: user.id, username: user.username, name: user.name, admin: user.admin, state: user.state };
  });

  app.post('/tokens', async (request, reply) => {
    const params = body(request.body);
    const user = userFrom(params, 'username');
    const scopes = optionalList(params, 'scopes');
    const token = seeder.createToken({
      userId: user.id,
      value: optionalString(params, 'token'),
      name: optionalString(params, 'name'),
      description: optionalString(params, 'description') ?? null,
      scopes,
      expiresAt: params['expiresAt'] === null ? null : optionalDate(params, 'expiresAt'),
      revoked: optionalBool(params, 'revoked'),
    });
    reply.code(201);
    // The secret is returned once, at creation, as GitLab does for new tokens.
    return {
      id: token.id,
      userId: token.userId,
      token: token.value,
      name: token.name,
      scopes: token.scopes,
      expiresAt: token.expiresAt,
      revoked: token.revoked,
    };
  });

  const tokenFrom = (params: Params) => {
    const id = optionalInt(params, 'id');
    const value = optionalString(params, 'token');
    const token =
      id !== undefined
        ? store.tokens.get(id)
        : value !== undefined
          ? store.tokensByValue.get(value)
          : undefined;
    if (!token) throw new GitlabError(404, { error: 'token not found (give "id" or "token")' });
    return token;
  };

  app.post('/tokens/revoke', async (request) => {
    const token = tokenFrom(body(request.body));
    token.revoked = true;
    return { id: token.id, revoked: true, active: false };
  });

  app.post('/tokens/expire', async (request) => {
    const params = body(request.body);
    const token = tokenFrom(params);
    token.expiresAt = optionalDate(params, 'expiresAt') ?? isoDate(sim.clock.now());
    return { id: token.id, expiresAt: token.expiresAt, active: tokenActive(token, sim.clock.now()) };
  });

  app.post('/groups', async (request, reply) => {
    const params = body(request.body);
    const group = seeder.ensureGroup(
      requiredString(params, 'path'),
      optionalEnum(params, 'visibility', VISIBILITIES),
    );
    reply.code(201);
    return { id: group.id, fullPath: group.fullPath, parentId: group.parentId, visibility: group.visibility };
  });

  app.post('/projects', async (request, reply) => {
    const params = body(request.body);
    const project = seeder.createProject({
      path: requiredString(params, 'path'),
      name: optionalString(params, 'name'),
      description: optionalString(params, 'description') ?? null,
      visibility: optionalEnum(params, 'visibility', VISIBILITIES),
      defaultBranch: optionalString(params, 'defaultBranch'),
      issuesEnabled: optionalBool(params, 'issuesEnabled'),
    });
    reply.code(201);
    return {
      id: project.id,
      pathWithNamespace: project.pathWithNamespace,
      visibility: project.visibility,
      webUrl: sim.urls.project(project),
    };
  });

  app.patch<{ Params: { project: string } }>('/projects/:project', async (request) => {
    const project = projectFrom(request.params.project);
    const params = body(request.body);
    const spamCheck = 'spamCheck' in params ? spamCheckFrom(params['spamCheck']) : undefined;
    const forbid = optionalBool(params, 'labelCreationForbidden');
    if (forbid !== undefined) project.labelCreationForbidden = forbid;
    if ('legacyPayloads' in params)
      project.legacyPayloads =
        params['legacyPayloads'] === null ? null : (optionalBool(params, 'legacyPayloads') ?? null);
    const issuesEnabled = optionalBool(params, 'issuesEnabled');
    if (issuesEnabled !== undefined) project.issuesEnabled = issuesEnabled;
    const visibility = optionalEnum(params, 'visibility', VISIBILITIES);
    if (visibility) project.visibility = visibility as Visibility;
    const archived = optionalBool(params, 'archived');
    if (archived !== undefined) project.archived = archived;
    if (spamCheck !== undefined) project.spamCheck = spamCheck;
    return {
      id: project.id,
      pathWithNamespace: project.pathWithNamespace,
      visibility: project.visibility,
      labelCreationForbidden: project.labelCreationForbidden,
      legacyPayloads: project.legacyPayloads,
      issuesEnabled: project.issuesEnabled,
      archived: project.archived,
      spamCheck: project.spamCheck,
    };
  });

  const memberTarget = (params: Params): { projectId?: number; groupId?: number } => {
    const projectRef = optionalString(params, 'project');
    if (projectRef !== undefined) return { projectId: projectFrom(projectRef).id };
    const groupPath = optionalString(params, 'group');
    const group = groupPath === undefined ? undefined : store.groupByPath(groupPath);
    if (!group)
      throw new GitlabError(404, { error: 'give "project" (id or path) or an existing "group" path' });
    return { groupId: group.id };
  };

  app.post('/members', async (request, reply) => {
    const params = body(request.body);
    const user = userFrom(params, 'username');
    const accessLevel = optionalInt(params, 'accessLevel');
    if (accessLevel === undefined) throw GitlabError.missing('accessLevel');
    seeder.setMember(memberTarget(params), user.id, accessLevel, optionalDate(params, 'expiresAt') ?? null);
    reply.code(201);
    return { userId: user.id, accessLevel };
  });

  app.delete('/members', async (request, reply) => {
    const params = body(request.body);
    seeder.removeMember(memberTarget(params), userFrom(params, 'username').id);
    return reply.code(204).send();
  });

  app.post<{ Params: { project: string } }>('/projects/:project/labels', async (request, reply) => {
    const project = projectFrom(request.params.project);
    const params = body(request.body);
    const label = sim.labels.createProjectLabel(project, {
      name: requiredString(params, 'name'),
      color: optionalString(params, 'color') ?? '#6699cc',
      description: optionalString(params, 'description') ?? null,
      priority: optionalInt(params, 'priority') ?? null,
    });
    reply.code(201);
    return { id: label.id, title: label.title, color: label.color, projectId: label.projectId };
  });

  app.post<{ Params: { group: string } }>('/groups/:group/labels', async (request, reply) => {
    const group = store.groupByPath(request.params.group);
    if (!group) throw new GitlabError(404, { error: `group ${request.params.group} not found` });
    const params = body(request.body);
    const label = sim.labels.createGroupLabel(group.id, {
      name: requiredString(params, 'name'),
      color: optionalString(params, 'color') ?? '#6699cc',
      description: optionalString(params, 'description') ?? null,
      priority: optionalInt(params, 'priority') ?? null,
    });
    reply.code(201);
    return { id: label.id, title: label.title, color: label.color, groupId: label.groupId };
  });

  // Issues and notes: bulk seeding and acting as a user (webhooks fire like REST writes)

  app.post<{ Params: { project: string } }>('/projects/:project/issues/bulk', async (request, reply) => {
    const project = projectFrom(request.params.project);
    const params = body(request.body);
    const started = performance.now();
    const count = optionalInt(params, 'count');
    if (count === undefined) throw GitlabError.missing('count');
    const author = optionalString(params, 'author');
    const result = seeder.bulkIssues(project, {
      count,
      closedPercent: optionalNumber(params, 'closedPercent'),
      confidentialPercent: optionalNumber(params, 'confidentialPercent'),
      priorityLabelsPercent: optionalNumber(params, 'priorityLabelsPercent'),
      labels: optionalList(params, 'labels'),
      titleTemplate: optionalString(params, 'titleTemplate'),
      descriptionTemplate:
        params['descriptionTemplate'] === null ? null : optionalString(params, 'descriptionTemplate'),
      authorId: author === undefined ? undefined : userFrom({ as: author }).id,
      startAt: optionalTime(params, 'startAt') ?? optionalNumber(params, 'startAtMs'),
      intervalMs: optionalNumber(params, 'intervalMs'),
      seed: optionalInt(params, 'seed'),
    });
    reply.code(201);
    return { ...result, ms: Math.round((performance.now() - started) * 10) / 10 };
  });

  const createIssue = (projectRef: string, params: Params, type: WorkItemType | undefined) => {
    const project = projectFrom(projectRef);
    const actor = userFrom(params);
    const issue = sim.issues.create(
      { actor },
      project,
      {
        title: requiredString(params, 'title'),
        description: optionalString(params, 'description') ?? null,
        labels: optionalList(params, 'labels'),
        confidential: optionalBool(params, 'confidential'),
        assigneeIds: usersFrom(params, 'assignees'),
        dueDate: optionalDate(params, 'dueDate'),
        type,
        weight: optionalInt(params, 'weight') ?? null,
      },
      ALL_RIGHTS,
    );
    return issueView(issue, project);
  };

  app.post<{ Params: { project: string } }>('/projects/:project/issues', async (request, reply) => {
    const params = body(request.body);
    const type = optionalEnum(params, 'type', WORK_ITEM_TYPES);
    reply.code(201);
    return createIssue(request.params.project, params, type);
  });

  app.post<{ Params: { project: string } }>('/projects/:project/work-items', async (request, reply) => {
    const params = body(request.body);
    const type = optionalEnum(params, 'type', WORK_ITEM_TYPES);
    if (!type) throw GitlabError.missing('type');
    reply.code(201);
    return createIssue(request.params.project, params, type);
  });

  /**
   * N writes by one user in one call, each firing its webhooks like the REST write would: a cheap
   * source of events for load tests (`create` opens issues, `comment` adds notes to one issue,
   * `update` retitles one issue).
   */
  app.post<{ Params: { project: string } }>('/projects/:project/burst', async (request, reply) => {
    const params = body(request.body);
    const project = projectFrom(request.params.project);
    const actor = userFrom(params);
    const count = optionalInt(params, 'count');
    if (count === undefined || count < 1 || count > 100_000)
      throw new GitlabError(400, { error: 'count must be between 1 and 100000' });
    const action = optionalEnum(params, 'action', ['create', 'comment', 'update'] as const) ?? 'create';
    const started = performance.now();
    if (action === 'create') {
      for (let n = 1; n <= count; n += 1)
        sim.issues.create({ actor }, project, { title: `Burst issue ${n}` }, ALL_RIGHTS);
      reply.code(201);
      return { action, count, iid: null, ms: Math.round((performance.now() - started) * 10) / 10 };
    }
    const iid = optionalInt(params, 'iid');
    const target =
      iid === undefined
        ? sim.issues.create({ actor }, project, { title: 'Burst target' }, ALL_RIGHTS)
        : issueFrom(project, String(iid));
    for (let n = 1; n <= count; n += 1) {
      if (action === 'comment')
        sim.notes.create(
          { actor },
          project,
          target,
          { body: `Burst comment ${n}`, internal: false },
          ALL_RIGHTS,
        );
      else sim.issues.update({ actor }, project, target, { title: `Burst title ${n}` }, ALL_RIGHTS);
    }
    reply.code(201);
    return { action, count, iid: target.iid, ms: Math.round((performance.now() - started) * 10) / 10 };
  });

  const updateIssue = (projectRef: string, iid: string, params: Params, input: IssueUpdateInput) => {
    const project = projectFrom(projectRef);
    const issue = issueFrom(project, iid);
    sim.issues.update({ actor: userFrom(params) }, project, issue, input, ALL_RIGHTS);
    return issueView(issue, project);
  };

  const issueUpdateInput = (params: Params): IssueUpdateInput => ({
    title: optionalString(params, 'title'),
    description: params['description'] === null ? '' : optionalString(params, 'description'),
    stateEvent: optionalEnum(params, 'stateEvent', ['close', 'reopen'] as const),
    labels: 'labels' in params ? (optionalList(params, 'labels') ?? []) : undefined,
    addLabels: optionalList(params, 'addLabels'),
    removeLabels: optionalList(params, 'removeLabels'),
    confidential: optionalBool(params, 'confidential'),
    assigneeIds: usersFrom(params, 'assignees'),
    dueDate: params['dueDate'] === null ? null : optionalDate(params, 'dueDate'),
    discussionLocked: optionalBool(params, 'discussionLocked'),
    type: optionalEnum(params, 'type', WORK_ITEM_TYPES),
  });

  app.put<{ Params: { project: string; iid: string } }>('/projects/:project/issues/:iid', async (request) => {
    const params = body(request.body);
    return updateIssue(request.params.project, request.params.iid, params, issueUpdateInput(params));
  });

  /**
   * Several edits by one user in one call, in order, each firing its webhooks like the REST write:
   * load tests drive many issues at a steady rate without one control request per edit (which
   * would make the simulator, not the system under test, the busiest process). Every edit is
   * checked before the first is applied, so a bad one changes nothing.
   */
  app.post<{ Params: { project: string } }>('/projects/:project/issues/edits', async (request) => {
    const params = body(request.body);
    const project = projectFrom(request.params.project);
    const actor = userFrom(params);
    const edits = params['edits'];
    if (!Array.isArray(edits) || edits.length < 1 || edits.length > 10_000)
      throw new GitlabError(400, { error: 'edits must be an array of 1 to 10000 edits' });
    const started = performance.now();
    const planned = edits.map((edit: unknown) => {
      const fields = body(edit);
      const iid = optionalInt(fields, 'iid');
      if (iid === undefined) throw GitlabError.missing('iid');
      return { issue: issueFrom(project, String(iid)), input: issueUpdateInput(fields) };
    });
    for (const { issue, input } of planned) sim.issues.update({ actor }, project, issue, input, ALL_RIGHTS);
    return { count: planned.length, ms: Math.round((performance.now() - started) * 10) / 10 };
  });

  app.post<{ Params: { project: string; iid: string } }>(
    '/projects/:project/issues/:iid/close',
    async (request) =>
      updateIssue(request.params.project, request.params.iid, body(request.body), { stateEvent: 'close' }),
  );

  app.post<{ Params: { project: string; iid: string } }>(
    '/projects/:project/issues/:iid/reopen',
    async (request) =>
      updateIssue(request.params.project, request.params.iid, body(request.body), { stateEvent: 'reopen' }),
  );

  /** A move as the REST route does it (`{as, toProject}`): answers the new issue, in its project. */
  app.post<{ Params: { project: string; iid: string } }>(
    '/projects/:project/issues/:iid/move',
    async (request, reply) => {
      const params = body(request.body);
      const project = projectFrom(request.params.project);
      const issue = issueFrom(project, request.params.iid);
      const targetRef = params['toProject'];
      if (typeof targetRef !== 'string' && typeof targetRef !== 'number')
        throw GitlabError.missing('toProject');
      const target = projectFrom(String(targetRef));
      const moved = sim.cloner.move({ actor: userFrom(params) }, project, issue, target);
      reply.code(201);
      return issueView(moved, target);
    },
  );

  app.delete<{ Params: { project: string; iid: string } }>(
    '/projects/:project/issues/:iid',
    async (request, reply) => {
      const project = projectFrom(request.params.project);
      sim.issues.delete(issueFrom(project, request.params.iid));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { project: string; iid: string } }>(
    '/projects/:project/issues/:iid/notes',
    async (request, reply) => {
      const params = body(request.body);
      const project = projectFrom(request.params.project);
      const issue = issueFrom(project, request.params.iid);
      const result = sim.notes.create(
        { actor: userFrom(params) },
        project,
        issue,
        { body: requiredString(params, 'body', false), internal: optionalBool(params, 'internal') ?? false },
        ALL_RIGHTS,
      );
      if (result.kind === 'commands') {
        reply.code(202);
        return {
          kind: 'commands',
          commands_changes: result.commands.changes,
          summary: result.commands.summary,
        };
      }
      reply.code(201);
      return { kind: 'note', note: presentNote(result.note, issue, store, sim.urls) };
    },
  );

  const noteFrom = (issue: SimIssue, noteId: string) => {
    const note = store.notes.get(Number(noteId));
    if (!note || note.issueId !== issue.id) throw new GitlabError(404, { error: `note ${noteId} not found` });
    return note;
  };

  app.put<{ Params: { project: string; iid: string; noteId: string } }>(
    '/projects/:project/issues/:iid/notes/:noteId',
    async (request) => {
      const params = body(request.body);
      const project = projectFrom(request.params.project);
      const issue = issueFrom(project, request.params.iid);
      const note = noteFrom(issue, request.params.noteId);
      sim.notes.update(
        { actor: userFrom(params) },
        project,
        issue,
        note,
        requiredString(params, 'body', false),
      );
      return presentNote(note, issue, store, sim.urls);
    },
  );

  app.delete<{ Params: { project: string; iid: string; noteId: string } }>(
    '/projects/:project/issues/:iid/notes/:noteId',
    async (request, reply) => {
      const project = projectFrom(request.params.project);
      const issue = issueFrom(project, request.params.iid);
      sim.notes.delete(issue, noteFrom(issue, request.params.noteId));
      return reply.code(204).send();
    },
  );

  // Faults

  app.post('/faults', async (request, reply) => {
    const params = body(request.body);
    const kind = optionalEnum(params, 'kind', FAULT_KINDS);
    if (!kind) throw GitlabError.missing('kind');
    const phase = optionalEnum(params, 'phase', FAULT_PHASES) ?? 'before';
    if (kind === 'rate_limit' && phase === 'after')
      throw new GitlabError(400, {
        error:
          'rate_limit faults refuse a request before it runs; for a 429 after the request ran use kind "status" with status 429',
      });
    const status = optionalInt(params, 'status');
    if (kind === 'status' && (status === undefined || status < 100 || status > 599))
      throw new GitlabError(400, { error: 'status must be an HTTP status code' });
    const probability = optionalNumber(params, 'probability') ?? 1;
    if (probability < 0 || probability > 1)
      throw new GitlabError(400, { error: 'probability must be between 0 and 1' });
    const count = optionalInt(params, 'count');
    const fault = sim.faults.add({
      method: (optionalString(params, 'method') ?? '*').toUpperCase(),
      path: requiredString(params, 'path'),
      kind,
      phase,
      latencyMs: optionalInt(params, 'latencyMs'),
      status,
      body: params['body'],
      retryAfter: optionalInt(params, 'retryAfter'),
      count: count === undefined ? null : count,
      probability,
    });
    reply.code(201);
    return fault;
  });

  app.get('/faults', async () => sim.faults.list());

  app.delete<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    if (!sim.faults.remove(Number(request.params.id)))
      throw new GitlabError(404, { error: 'fault not found' });
    return reply.code(204).send();
  });

  app.delete('/faults', async (_request, reply) => {
    sim.faults.clear();
    return reply.code(204).send();
  });

  // REST API request log

  app.get('/api-requests', async (request) => {
    const params = body(request.query);
    const projectRef = optionalString(params, 'project');
    const methodList = optionalList(params, 'method');
    const limit = optionalInt(params, 'limit') ?? DEFAULT_API_REQUEST_LIMIT;
    if (limit < 1 || limit > MAX_API_REQUEST_RECORDS)
      throw new GitlabError(400, { error: `limit must be between 1 and ${MAX_API_REQUEST_RECORDS}` });
    return {
      requests: sim.apiRequests.query({
        since: optionalNumber(params, 'since'),
        methods: methodList ? new Set(methodList.map((method) => method.toUpperCase())) : undefined,
        projectId: projectRef === undefined ? undefined : projectFrom(projectRef).id,
        limit,
      }),
    };
  });

  app.delete('/api-requests', async (_request, reply) => {
    sim.apiRequests.clear();
    return reply.code(204).send();
  });

  // Webhook deliveries and hooks

  app.post('/deliveries/drop', async (request) => {
    const params = body(request.body);
    const next = optionalInt(params, 'next');
    const percent = optionalNumber(params, 'percent');
    if (next !== undefined) sim.settings.dropDeliveries.next = Math.max(0, next);
    if (percent !== undefined) sim.settings.dropDeliveries.percent = Math.min(100, Math.max(0, percent));
    return { ...sim.settings.dropDeliveries };
  });

  app.get('/deliveries', async (request) => {
    const params = body(request.query);
    const projectRef = optionalString(params, 'project');
    const projectId = projectRef === undefined ? undefined : projectFrom(projectRef).id;
    const hookId = optionalInt(params, 'hook');
    const since = optionalNumber(params, 'since');
    const outcome = optionalString(params, 'outcome');
    const limit = optionalInt(params, 'limit') ?? 1_000;
    const records: DeliveryRecord[] = [];
    for (const record of store.deliveries.values()) {
      if (projectId !== undefined && record.projectId !== projectId) continue;
      if (hookId !== undefined && record.hookId !== hookId) continue;
      if (since !== undefined && record.sentAt < since) continue;
      if (outcome !== undefined && record.outcome !== outcome) continue;
      records.push(record);
    }
    return records.slice(Math.max(0, records.length - limit)).map(deliveryView);
  });

  app.post('/deliveries/flush', async () => {
    await sim.dispatcher.idle();
    return { pending: sim.dispatcher.pending };
  });

  app.get<{ Params: { id: string } }>('/deliveries/:id', async (request) => {
    const record = store.deliveries.get(Number(request.params.id));
    if (!record) throw new GitlabError(404, { error: 'delivery not found' });
    return deliveryView(record);
  });

  app.post<{ Params: { id: string } }>('/deliveries/:id/resend', async (request) => {
    const record = store.deliveries.get(Number(request.params.id));
    if (!record) throw new GitlabError(404, { error: 'delivery not found' });
    if (!store.hooks.has(record.hookId))
      throw new GitlabError(404, { error: 'the hook of this delivery no longer exists' });
    return deliveryView(await sim.webhooks.resend(record));
  });

  const hookView = (hookId: string) => {
    const hook = store.hooks.get(Number(hookId));
    if (!hook) throw new GitlabError(404, { error: 'hook not found' });
    const now = sim.clock.now();
    return {
      hook,
      view: {
        id: hook.id,
        projectId: hook.projectId,
        url: hook.url,
        events: hook.events,
        alertStatus: alertStatus(hook, now),
        disabledUntil: hook.disabledUntil,
        recentFailures: hook.recentFailures,
        backoffCount: hook.backoffCount,
        tokenPresent: hook.token !== null,
        signingTokenPresent: hook.signingToken !== null,
      },
    };
  };

  app.get<{ Params: { id: string } }>('/hooks/:id', async (request) => hookView(request.params.id).view);

  app.post<{ Params: { id: string } }>('/hooks/:id/enable', async (request) => {
    recordSuccess(hookView(request.params.id).hook);
    return hookView(request.params.id).view;
  });

  // State

  app.get('/state', async (request) => {
    const params = body(request.query);
    const projectRef = optionalString(params, 'project');
    const only = projectRef === undefined ? undefined : projectFrom(projectRef);
    const limit = optionalInt(params, 'limit') ?? 10_000;
    const now = sim.clock.now();
    const projects = [...store.projects.values()].filter((project) => !only || project.id === only.id);
    const projectIds = new Set(projects.map((project) => project.id));
    const issues: Record<string, unknown>[] = [];
    const notes: Record<string, unknown>[] = [];
    for (const project of projects) {
      for (const issue of store.issuesOf(project.id).byCreatedAt) {
        if (issues.length >= limit) break;
        issues.push({
          id: issue.id,
          iid: issue.iid,
          projectId: issue.projectId,
          title: issue.title,
          description: issue.description,
          state: issue.state,
          type: issue.type,
          confidential: issue.confidential,
          labels: sim.issuePresenter.labelTitles(issue),
          authorId: issue.authorId,
          assigneeIds: issue.assigneeIds,
          createdAt: issue.createdAt,
          updatedAt: issue.updatedAt,
          closedAt: issue.closedAt,
          userNotesCount: issue.userNotesCount,
        });
        for (const note of store.notesByIssue.get(issue.id) ?? []) {
          if (notes.length >= limit) break;
          notes.push({ ...note });
        }
      }
    }
    return {
      clock: { now, offsetMs: sim.clock.offset },
      settings: sim.settings,
      users: [...store.users.values()].map((user) => ({ ...user })),
      tokens: [...store.tokens.values()].map((token) => {
        const { value, ...rest } = token;
        return { ...rest, hint: tokenHint(value), active: tokenActive(token, now) };
      }),
      groups: [...store.groups.values()].map((group) => ({
        ...group,
        members: [...(store.groupMembers.get(group.id)?.values() ?? [])],
      })),
      projects: projects.map((project) => ({
        ...project,
        webUrl: sim.urls.project(project),
        members: [...(store.projectMembers.get(project.id)?.values() ?? [])],
        issueCount: store.issuesOf(project.id).size,
      })),
      labels: [...store.labels.values()].filter(
        (label) => !only || label.projectId === null || projectIds.has(label.projectId),
      ),
      hooks: [...store.hooks.values()]
        .filter((hook) => projectIds.has(hook.projectId))
        .map(({ token, signingToken, ...hook }) => ({
          ...hook,
          tokenPresent: token !== null,
          signingTokenPresent: signingToken !== null,
          alertStatus: alertStatus({ ...hook, token, signingToken }, now),
        })),
      issues,
      notes,
      spamLogs: [...store.spamLogs.values()].filter((log) => projectIds.has(log.projectId)),
      counts: {
        issues: store.issues.size,
        notes: store.notes.size,
        deliveries: store.deliveries.size,
        apiRequests: sim.apiRequests.count,
      },
    };
  });
}
