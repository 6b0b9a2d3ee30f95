import type { FastifyInstance, FastifyRequest } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';
import { Permissions } from '../domain/permissions';
import type { Simulator } from '../simulator';
import {
  HOOK_EVENT_FLAGS,
  REST_ISSUE_TYPES,
  type DeliveryRecord,
  type HookEventFlag,
  type HookTrigger,
  type SimHook,
} from '../store/models';
import { recordSuccess } from '../webhooks/auto-disabling';
import { isValidSigningToken } from '../webhooks/signing';
import { paginate } from './pagination';
import {
  optionalBool,
  optionalEnum,
  optionalString,
  pathInt,
  requestParams,
  requiredString,
  type Params,
} from './params';
import { presentHook, presentHookEvent } from './presenters/hook.presenter';
import { APPLICATION_RATE_LIMIT_BODY } from './rate-limiter';
import { loadProject, requireUser, type ProjectAccess } from './route-helpers';

interface ProjectParams {
  id: string;
}
interface HookParams extends ProjectParams {
  hook_id: string;
}

/** Hooks per project (instance limit, same on GitLab.com and self-managed). */
export const MAX_HOOKS_PER_PROJECT = 100;
const HOOK_EVENTS_RETENTION_MS = 7 * 24 * 60 * 60_000;
const TEST_TRIGGERS = [
  'push_events',
  'tag_push_events',
  'issues_events',
  'confidential_issues_events',
  'note_events',
  'confidential_note_events',
  'merge_requests_events',
  'job_events',
  'pipeline_events',
  'wiki_page_events',
  'releases_events',
  'milestone_events',
  'emoji_events',
  'resource_access_token_events',
  'resource_deploy_token_events',
] as const;

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

function keyValueList(params: Params, name: string): Array<{ key: string; value: string }> | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw GitlabError.invalid(name);
  return value.map((item) => {
    if (!item || typeof item !== 'object') throw GitlabError.invalid(name);
    const entry = item as Record<string, unknown>;
    if (typeof entry['key'] !== 'string') throw GitlabError.invalid(`${name}[key]`);
    return { key: entry['key'], value: typeof entry['value'] === 'string' ? entry['value'] : '' };
  });
}

/** Project webhooks: CRUD (Maintainer+), the event log, resend and test. */
export function registerHookRoutes(app: FastifyInstance, sim: Simulator): void {
  const { store } = sim;

  const access = (request: FastifyRequest, ref: string): ProjectAccess => {
    requireUser(request);
    const result = loadProject(sim, request, ref);
    if (!Permissions.adminHooks(result.viewer)) throw GitlabError.forbidden();
    return result;
  };

  const loadHook = (projectId: number, hookIdParam: string): SimHook => {
    const hook = store.hooks.get(pathInt(hookIdParam, 'hook_id'));
    if (!hook || hook.projectId !== projectId) throw GitlabError.notFound();
    return hook;
  };

  /** Applies the writable attributes (throws GitLab's 400/422 for invalid ones). */
  const applyAttributes = (hook: SimHook, params: Params): void => {
    for (const flag of HOOK_EVENT_FLAGS) {
      const value = optionalBool(params, flag);
      if (value !== undefined) hook.events[flag] = value;
    }
    const name = optionalString(params, 'name');
    if (name !== undefined) hook.name = name;
    const description = optionalString(params, 'description');
    if (description !== undefined) hook.description = description;
    const token = optionalString(params, 'token');
    if (token !== undefined) hook.token = token === '' ? null : token;
    // Grape drops parameters a GitLab without the flag does not declare.
    const signingToken = sim.settings.webhookSigningTokens
      ? optionalString(params, 'signing_token')
      : undefined;
    if (signingToken !== undefined) {
      if (signingToken !== '' && !isValidSigningToken(signingToken)) {
        throw GitlabError.unprocessable(
          'Signing token must be in the format whsec_<base64> encoding a 32-byte key',
        );
      }
      hook.signingToken = signingToken === '' ? null : signingToken;
    }
    const ssl = optionalBool(params, 'enable_ssl_verification');
    if (ssl !== undefined) hook.enableSslVerification = ssl;
    const branchFilter = optionalString(params, 'push_events_branch_filter');
    if (branchFilter !== undefined) hook.pushEventsBranchFilter = branchFilter;
    const strategy = optionalEnum(params, 'branch_filter_strategy', [
      'wildcard',
      'regex',
      'all_branches',
    ] as const);
    if (strategy !== undefined) hook.branchFilterStrategy = strategy;
    const template = optionalString(params, 'custom_webhook_template');
    if (template !== undefined) hook.customWebhookTemplate = template === '' ? null : template;
    const headers = keyValueList(params, 'custom_headers');
    if (headers !== undefined) {
      if (headers.length > 20) throw GitlabError.unprocessable('Custom headers must be a valid json schema');
      hook.customHeaders = headers;
    }
    const variables = keyValueList(params, 'url_variables');
    if (variables !== undefined) hook.urlVariables = variables;
  };

  app.get<{ Params: ProjectParams }>(
    '/projects/:id/hooks',
    { schema: { tags: ['hooks'], summary: 'List project hooks' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hooks = [...(store.hooksByProject.get(project.id)?.values() ?? [])];
      const now = sim.clock.now();
      return paginate(reply, request, sim.urls, requestParams(request), hooks).map((hook) =>
        presentHook(hook, now, sim.settings.webhookSigningTokens),
      );
    },
  );

  app.get<{ Params: HookParams }>(
    '/projects/:id/hooks/:hook_id',
    { schema: { tags: ['hooks'], summary: 'One project hook' } },
    async (request) => {
      const { project } = access(request, request.params.id);
      return presentHook(
        loadHook(project.id, request.params.hook_id),
        sim.clock.now(),
        sim.settings.webhookSigningTokens,
      );
    },
  );

  app.post<{ Params: ProjectParams }>(
    '/projects/:id/hooks',
    { schema: { tags: ['hooks'], summary: 'Add a hook (push_events defaults to true)' } },
    async (request, reply) => {
      requireUser(request);
      const params = requestParams(request);
      const url = requiredString(params, 'url');
      const { project } = access(request, request.params.id);
      if (!validUrl(url)) throw GitlabError.unprocessable('Invalid url given');
      const existing = store.hooksByProject.get(project.id)?.size ?? 0;
      if (existing >= MAX_HOOKS_PER_PROJECT)
        throw GitlabError.unprocessable(
          `Maximum number of project hooks (${MAX_HOOKS_PER_PROJECT}) exceeded`,
        );
      const events = Object.fromEntries(
        HOOK_EVENT_FLAGS.map((flag) => [flag, flag === 'push_events']),
      ) as Record<HookEventFlag, boolean>;
      const hook: SimHook = {
        id: store.nextId('hook'),
        projectId: project.id,
        url,
        name: '',
        description: '',
        token: null,
        signingToken: null,
        events,
        pushEventsBranchFilter: '',
        branchFilterStrategy: 'wildcard',
        enableSslVerification: true,
        customWebhookTemplate: null,
        customHeaders: [],
        urlVariables: [],
        createdAt: sim.clock.now(),
        recentFailures: 0,
        backoffCount: 0,
        disabledUntil: null,
      };
      applyAttributes(hook, params);
      store.addHook(hook);
      reply.code(201);
      return presentHook(hook, sim.clock.now(), sim.settings.webhookSigningTokens);
    },
  );

  app.put<{ Params: HookParams }>(
    '/projects/:id/hooks/:hook_id',
    { schema: { tags: ['hooks'], summary: 'Edit a hook (a new url resets the secret token)' } },
    async (request) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const params = requestParams(request);
      const url = optionalString(params, 'url');
      if (url !== undefined && !validUrl(url)) throw GitlabError.unprocessable('Invalid url given');
      // "When you change the webhook URL, the secret token is reset and not retained."
      const draft: SimHook = { ...hook, events: { ...hook.events } };
      if (url !== undefined && url !== hook.url) {
        draft.url = url;
        draft.token = null;
      }
      applyAttributes(draft, params);
      Object.assign(hook, draft);
      return presentHook(hook, sim.clock.now(), sim.settings.webhookSigningTokens);
    },
  );

  app.delete<{ Params: HookParams }>(
    '/projects/:id/hooks/:hook_id',
    { schema: { tags: ['hooks'], summary: 'Delete a hook' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      store.removeHook(loadHook(project.id, request.params.hook_id));
      return reply.code(204).send();
    },
  );

  app.put<{ Params: HookParams & { key: string } }>(
    '/projects/:id/hooks/:hook_id/custom_headers/:key',
    { schema: { tags: ['hooks'], summary: 'Set a custom header' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const value = requiredString(requestParams(request), 'value');
      hook.customHeaders = [
        ...hook.customHeaders.filter(({ key }) => key !== request.params.key),
        { key: request.params.key, value },
      ];
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: HookParams & { key: string } }>(
    '/projects/:id/hooks/:hook_id/custom_headers/:key',
    { schema: { tags: ['hooks'], summary: 'Delete a custom header' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      hook.customHeaders = hook.customHeaders.filter(({ key }) => key !== request.params.key);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: HookParams & { key: string } }>(
    '/projects/:id/hooks/:hook_id/url_variables/:key',
    { schema: { tags: ['hooks'], summary: 'Set a URL variable' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const value = requiredString(requestParams(request), 'value');
      hook.urlVariables = [
        ...hook.urlVariables.filter(({ key }) => key !== request.params.key),
        { key: request.params.key, value },
      ];
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: HookParams & { key: string } }>(
    '/projects/:id/hooks/:hook_id/url_variables/:key',
    { schema: { tags: ['hooks'], summary: 'Delete a URL variable' } },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      hook.urlVariables = hook.urlVariables.filter(({ key }) => key !== request.params.key);
      return reply.code(204).send();
    },
  );

  const statusMatches = (record: DeliveryRecord, status: string | undefined): boolean => {
    if (status === undefined) return true;
    const code = record.responseStatus;
    if (status === 'successful') return code !== null && code >= 200 && code < 300;
    if (status === 'client_failure') return code !== null && code >= 400 && code < 500;
    if (status === 'server_failure') return code !== null && code >= 500 && code < 600;
    return code !== null && String(code) === status;
  };

  app.get<{ Params: HookParams }>(
    '/projects/:id/hooks/:hook_id/events',
    {
      schema: {
        tags: ['hooks'],
        summary: 'Deliveries of the last 7 days (status: code, successful, client_failure, server_failure)',
      },
    },
    async (request, reply) => {
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const params = requestParams(request);
      const status = optionalString(params, 'status');
      if (
        status !== undefined &&
        !/^\d{3}$/.test(status) &&
        !['successful', 'client_failure', 'server_failure'].includes(status)
      ) {
        throw GitlabError.notInValues('status');
      }
      const since = Date.now() - HOOK_EVENTS_RETENTION_MS;
      const records = [...store.deliveries.values()].filter(
        (record) =>
          record.hookId === hook.id &&
          (record.outcome === 'success' || record.outcome === 'failure') &&
          record.sentAt >= since &&
          statusMatches(record, status),
      );
      // Custom header values are secrets too: logged as [REDACTED] like X-Gitlab-Token.
      const custom = new Set(hook.customHeaders.map(({ key }) => key.toLowerCase()));
      return paginate(reply, request, sim.urls, params, records).map((record) =>
        presentHookEvent(record, custom),
      );
    },
  );

  const hookRateLimit = (userId: number, hookId: number, action: string): void => {
    const limit = sim.settings.rateLimits.hookTestsPerMinute;
    if (limit === null) return;
    const decision = sim.rateLimiter.hit(`${action}:${userId}:${hookId}`, limit);
    if (!decision.allowed)
      throw new GitlabError(429, APPLICATION_RATE_LIMIT_BODY, { 'Retry-After': String(decision.retryAfter) });
  };

  app.post<{ Params: HookParams & { hook_event_id: string } }>(
    '/projects/:id/hooks/:hook_id/events/:hook_event_id/resend',
    { schema: { tags: ['hooks'], summary: 'Resend a delivery with the same Idempotency-Key' } },
    async (request, reply) => {
      const user = requireUser(request);
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const record = store.deliveries.get(pathInt(request.params.hook_event_id, 'hook_event_id'));
      if (!record || record.hookId !== hook.id) throw GitlabError.notFound();
      hookRateLimit(user.id, hook.id, 'web_hook_event_resend');
      const sent = await sim.webhooks.resend(record);
      if (sent.responseStatus === null) throw GitlabError.unprocessable(sent.error ?? 'internal error');
      reply.code(201);
      return { response_status: sent.responseStatus };
    },
  );

  app.post<{ Params: HookParams & { trigger: string } }>(
    '/projects/:id/hooks/:hook_id/test/:trigger',
    { schema: { tags: ['hooks'], summary: 'Send a test event (a 2xx answer re-enables a disabled hook)' } },
    async (request, reply) => {
      const user = requireUser(request);
      const { project } = access(request, request.params.id);
      const hook = loadHook(project.id, request.params.hook_id);
      const trigger = request.params.trigger;
      if (!(TEST_TRIGGERS as readonly string[]).includes(trigger)) throw GitlabError.notInValues('trigger');
      hookRateLimit(user.id, hook.id, 'web_hook_test');
      const issues = store
        .issuesOf(project.id)
        .byCreatedAt.filter((issue) => REST_ISSUE_TYPES.includes(issue.type));
      const generation = (project.legacyPayloads ?? sim.settings.legacyPayloads) ? 'legacy' : 'modern';
      let payload: Record<string, unknown>;
      let hookTrigger: HookTrigger;
      if (trigger === 'issues_events' || trigger === 'confidential_issues_events') {
        const issue = issues[issues.length - 1];
        if (!issue) throw new GitlabError(422, { message: 'Ensure the project has issues.' });
        hookTrigger = trigger === 'issues_events' ? 'issue_hooks' : 'confidential_issue_hooks';
        payload = sim.webhooks.payloads.issueEvent({
          project,
          issue,
          actor: user,
          action: 'open',
          changes: {},
          generation,
        });
      } else if (trigger === 'note_events' || trigger === 'confidential_note_events') {
        const notes = issues.flatMap((issue) =>
          (store.notesByIssue.get(issue.id) ?? [])
            .filter((note) => !note.system)
            .map((note) => ({ issue, note })),
        );
        const last = notes[notes.length - 1];
        if (!last) throw new GitlabError(422, { message: 'Ensure the project has notes.' });
        hookTrigger = trigger === 'note_events' ? 'note_hooks' : 'confidential_note_hooks';
        payload = sim.webhooks.payloads.noteEvent({
          project,
          issue: last.issue,
          note: last.note,
          actor: user,
          action: 'create',
          generation,
        });
      } else {
        throw new GitlabError(422, { message: `Testing ${trigger} is not supported by the simulator` });
      }
      const record = await sim.webhooks.sendNow(hook, hookTrigger, payload);
      const status = record.responseStatus;
      if (status === null || status < 200 || status >= 300) {
        throw new GitlabError(422, {
          message: status === null ? (record.error ?? 'internal error') : `Hook execution failed: ${status}`,
        });
      }
      recordSuccess(hook);
      reply.code(201);
      return { message: '201 Created' };
    },
  );
}
