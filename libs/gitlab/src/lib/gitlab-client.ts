import { X509Certificate } from 'node:crypto';

import { BaseResource, createRequesterFn, type RequestOptions } from '@gitbeaker/requester-utils';

import { AppError, ValidationError } from '@testkase/util';

import type {
  CallOptions,
  CreateHookInput,
  CreateIssueInput,
  CreateLabelInput,
  CreateNoteInput,
  HookEventQuery,
  HookTestTrigger,
  IssueListQuery,
  LabelListQuery,
  NoteListQuery,
  PageOptions,
  ProjectRef,
  UpdateHookInput,
  UpdateIssueInput,
  UpdateNoteInput,
} from './gitlab-inputs.types';
import { silentLogger, type GitlabLogger } from './gitlab-logger';
import type {
  GitlabCreateNoteResult,
  GitlabHook,
  GitlabHookEvent,
  GitlabIssue,
  GitlabIssueStatistics,
  GitlabLabel,
  GitlabMember,
  GitlabNote,
  GitlabPage,
  GitlabProject,
  GitlabTokenInfo,
  GitlabUser,
  GitlabVersion,
} from './gitlab-rest.types';
import { processLimiterRegistry, type GitlabLimiterRegistry } from './rate-limit/limiter-registry';
import {
  GITLAB_COM_RATE_LIMITS,
  type GitlabRateLimits,
  type RequestCategory,
} from './rate-limit/rate-limits';
import { createGuardedAgent } from './ssrf/guarded-agent';
import {
  assertInstanceUrlAllowed,
  parseHttpUrl,
  systemResolver,
  type HostResolver,
  type UrlPolicy,
} from './ssrf/url-policy';
import { GitlabApi, type Body, type Query } from './transport/gitlab-api';
import type { GitlabMetricsSink } from './transport/gitlab-metrics';
import { DEFAULT_MAX_RESPONSE_BYTES } from './transport/guarded-fetch';
import { paginate } from './transport/link-pagination';
import { createRequestHandler, DEFAULT_RETRY_POLICY, type RetryPolicy } from './transport/request-handler';

export const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_PER_PAGE = 100;

export interface GitlabClientOptions {
  /** Base URL of the instance, e.g. `https://gitlab.com` or `https://example.com/gitlab`. */
  readonly instanceUrl: string;
  readonly token: string;
  readonly policy: UrlPolicy;
  /** PEM of a private CA to trust for this instance, on top of the public roots. */
  readonly caCertificate?: string;
  /** Client-side budgets for this token; default GitLab.com's. */
  readonly limits?: GitlabRateLimits;
  /** Per attempt (connect, redirects and body included); default 15 s. */
  readonly timeoutMs?: number;
  /**
   * Largest response body read (bytes); a bigger one aborts the transfer and fails the call with
   * GITLAB_RESPONSE_TOO_LARGE (permanent, not retried). Default 20 MiB.
   */
  readonly maxResponseBytes?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: GitlabLogger;
  /** Default: the per-process registry, so every client of a token shares its budget. */
  readonly limiterRegistry?: GitlabLimiterRegistry;
  /** Calls by templated route and status, 429 waits and retries (libs/platform `gitlabMetrics`). */
  readonly metrics?: GitlabMetricsSink;
  /** Test seam: resolves host names instead of the system resolver (for the SSRF checks too). */
  readonly resolver?: HostResolver;
}

export interface GitlabClient {
  /** Normalised instance URL (no trailing slash). */
  readonly instanceUrl: string;
  /** The token's shared client-side budget (every client of this token in the process). */
  readonly rateLimit: {
    /** How long a request of this kind asked for now would wait (ms), without taking a slot. */
    wouldWait(category: RequestCategory): number;
  };
  readonly users: {
    /** `GET /user`: the token owner. */
    current(): Promise<GitlabUser>;
  };
  readonly tokens: {
    /** `GET /personal_access_tokens/self` (GitLab 15.5+; see docs/GITLAB.md, "Older GitLab versions"). */
    self(): Promise<GitlabTokenInfo>;
    /** `GET /personal_access_tokens?user_id=`: every token of that user, revoked and expired ones too (13.3+). */
    listOf(userId: number): Promise<GitlabTokenInfo[]>;
  };
  readonly instance: {
    /** `GET /version`: e.g. `{"version":"15.4.6-ee","revision":"…"}` (GitLab 8.13+). */
    version(): Promise<GitlabVersion>;
  };
  readonly projects: {
    /** `GET /projects/:id`; a `namespace/project` path is URL-encoded. 404 → PROJECT_NOT_FOUND. */
    get(idOrPath: ProjectRef): Promise<GitlabProject>;
  };
  readonly members: {
    /** `GET /projects/:id/members/all/:user_id`: effective (inherited/invited) membership. */
    getEffective(projectId: ProjectRef, userId: number): Promise<GitlabMember>;
  };
  readonly issues: {
    pages(
      projectId: ProjectRef,
      query?: IssueListQuery,
      options?: PageOptions,
    ): AsyncIterable<GitlabPage<GitlabIssue>>;
    get(projectId: ProjectRef, issueIid: number, options?: CallOptions): Promise<GitlabIssue>;
    /**
     * `GET /projects/:id/issues_statistics`: how many issues match (`all`, `opened`, `closed`), of
     * the types the issues API serves; `iids` narrows it to those iids. A few bytes per call, so
     * "do these 100 issues still exist?" costs one small request (docs/GITLAB.md, "Moved, deleted
     * and retyped issues").
     */
    statistics(projectId: ProjectRef, query?: { iids?: readonly number[] }): Promise<GitlabIssueStatistics>;
    /** POST: not retried on 5xx/timeouts (see README); the caller decides, to avoid duplicates. */
    create(projectId: ProjectRef, input: CreateIssueInput): Promise<GitlabIssue>;
    update(projectId: ProjectRef, issueIid: number, input: UpdateIssueInput): Promise<GitlabIssue>;
  };
  readonly notes: {
    pages(
      projectId: ProjectRef,
      issueIid: number,
      query?: NoteListQuery,
      options?: PageOptions,
    ): AsyncIterable<GitlabPage<GitlabNote>>;
    get(projectId: ProjectRef, issueIid: number, noteId: number, options?: CallOptions): Promise<GitlabNote>;
    create(projectId: ProjectRef, issueIid: number, input: CreateNoteInput): Promise<GitlabCreateNoteResult>;
    update(
      projectId: ProjectRef,
      issueIid: number,
      noteId: number,
      input: UpdateNoteInput,
    ): Promise<GitlabNote>;
    delete(projectId: ProjectRef, issueIid: number, noteId: number): Promise<void>;
  };
  readonly labels: {
    pages(
      projectId: ProjectRef,
      query?: LabelListQuery,
      options?: PageOptions,
    ): AsyncIterable<GitlabPage<GitlabLabel>>;
    /** 409 "Label already exists" (possibly a group label) → GITLAB_REJECTED, details.status 409. */
    create(projectId: ProjectRef, input: CreateLabelInput): Promise<GitlabLabel>;
  };
  readonly hooks: {
    pages(projectId: ProjectRef, options?: PageOptions): AsyncIterable<GitlabPage<GitlabHook>>;
    /** Every hook of the project (all pages). */
    list(projectId: ProjectRef): Promise<GitlabHook[]>;
    get(projectId: ProjectRef, hookId: number): Promise<GitlabHook>;
    create(projectId: ProjectRef, input: CreateHookInput): Promise<GitlabHook>;
    /** Changing `url` makes GitLab drop the secret token: send `token` again with it. */
    update(projectId: ProjectRef, hookId: number, input: UpdateHookInput): Promise<GitlabHook>;
    delete(projectId: ProjectRef, hookId: number): Promise<void>;
    /**
     * `POST /projects/:id/hooks/:hook_id/test/:trigger`: sends a test delivery now. A 2xx answer
     * from the receiver re-enables a disabled hook. GitLab allows 5 per minute per user and project;
     * it answers 422 when the project has nothing to build the test payload from (no issue, no note).
     */
    test(projectId: ProjectRef, hookId: number, trigger: HookTestTrigger): Promise<void>;
    /** Pages of `GET /projects/:id/hooks/:hook_id/events` (GitLab 17.3+, last 7 days). */
    events(
      projectId: ProjectRef,
      hookId: number,
      query?: HookEventQuery,
      options?: PageOptions,
    ): AsyncIterable<GitlabPage<GitlabHookEvent>>;
  };
  /**
   * Closes this client's connections (idle ones also close on their own after a few seconds) and
   * releases its hold on the token's limiter, which the registry then drops once it is idle.
   */
  close(): Promise<void>;
}

const seg = (value: string | number): string => encodeURIComponent(String(value));
const project = (id: ProjectRef): string => `projects/${seg(id)}`;

function assertNoCommas(labels: readonly string[], field: string): void {
  const bad = labels.find((label) => label.includes(','));
  if (bad !== undefined) throw new ValidationError(`Label names cannot contain commas: "${bad}"`, { field });
}

/** GitLab takes label sets as one comma-separated string, hence no commas inside a name. */
function labelList(labels: readonly string[], field: string): string {
  assertNoCommas(labels, field);
  return labels.join(',');
}

function withoutUndefined(record: Record<string, unknown>): Body {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function issueListQuery(query: IssueListQuery): Query {
  const { labels, iids, keyset, per_page, order_by, sort, ...filters } = query;
  return {
    ...filters,
    labels: Array.isArray(labels) ? (labels.length > 0 ? labelList(labels, 'labels') : undefined) : labels,
    iids: iids && iids.length > 0 ? [...iids] : undefined,
    per_page: per_page ?? DEFAULT_PER_PAGE,
    ...(keyset
      ? { pagination: 'keyset', order_by: order_by ?? 'updated_at', sort: sort ?? 'asc' }
      : { order_by, sort }),
  };
}

function issueBody(input: CreateIssueInput | UpdateIssueInput): Body {
  const { labels, ...rest } = input;
  const { add_labels, remove_labels } = input as UpdateIssueInput;
  return withoutUndefined({
    ...rest,
    labels: labels ? labelList(labels, 'labels') : undefined,
    add_labels: add_labels ? labelList(add_labels, 'add_labels') : undefined,
    remove_labels: remove_labels ? labelList(remove_labels, 'remove_labels') : undefined,
  });
}

function normaliseInstanceUrl(instanceUrl: string): string {
  const url = parseHttpUrl(instanceUrl);
  if (url.search !== '' || url.hash !== '') {
    throw new AppError('URL_NOT_ALLOWED', 'Instance URL must not carry a query or fragment', {
      details: { host: url.hostname },
    });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function assertPem(caCertificate: string): void {
  try {
    new X509Certificate(caCertificate);
  } catch {
    throw new ValidationError('caCertificate is not a PEM-encoded X.509 certificate', {
      field: 'caCertificate',
    });
  }
}

/**
 * Builds the GitLab client for one (instance, token). Nothing is sent until the first call; that
 * call first checks the instance URL against `policy` (DNS included).
 * @throws AppError URL_NOT_ALLOWED (scheme, credentials), VALIDATION_FAILED (token, caCertificate)
 */
export function createGitlabClient(options: GitlabClientOptions): GitlabClient {
  const instanceUrl = normaliseInstanceUrl(options.instanceUrl);
  if (options.token.trim() === '') throw new ValidationError('GitLab token is empty', { field: 'token' });
  if (options.caCertificate !== undefined) assertPem(options.caCertificate);
  if (
    options.maxResponseBytes !== undefined &&
    !(Number.isSafeInteger(options.maxResponseBytes) && options.maxResponseBytes > 0)
  ) {
    throw new ValidationError('maxResponseBytes must be a positive integer', { field: 'maxResponseBytes' });
  }

  const resolver = options.resolver ?? systemResolver;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const apiBase = new URL(`${instanceUrl}/api/v4/`);
  const dispatcher = createGuardedAgent({
    policy: options.policy,
    resolver,
    caCertificate: options.caCertificate,
    connectTimeoutMs: timeoutMs,
  });
  const lease = (options.limiterRegistry ?? processLimiterRegistry).lease(
    instanceUrl,
    options.token,
    options.limits ?? GITLAB_COM_RATE_LIMITS,
  );
  const { limiter } = lease;
  let closing: Promise<void> | undefined;

  let instanceCheck: Promise<void> | undefined;
  const ensureInstanceAllowed = (): Promise<void> =>
    (instanceCheck ??= assertInstanceUrlAllowed(instanceUrl, options.policy, { resolver }).then(
      () => undefined,
      (error: unknown) => {
        instanceCheck = undefined;
        throw error;
      },
    ));

  const handler = createRequestHandler({
    apiBase,
    limiter,
    fetch: {
      dispatcher,
      policy: options.policy,
      resolver,
      timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    },
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    logger: options.logger ?? silentLogger,
    secret: options.token,
    ensureInstanceAllowed,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  // gitbeaker builds the request (PRIVATE-TOKEN header, query and JSON encoding); our handler sends
  // it. `rateLimits: {}` and `queryTimeout: null` switch off gitbeaker's own throttle and timeout.
  const requesterFn = createRequesterFn(
    async (_service, requestOptions: RequestOptions) => requestOptions,
    handler,
  );
  const resource = new BaseResource({
    host: instanceUrl,
    token: options.token,
    requesterFn,
    rateLimits: {},
    queryTimeout: null,
  });
  const api = new GitlabApi(resource.requester);
  const pages = <T>(
    path: string,
    query: Query,
    pageOptions: PageOptions = {},
  ): AsyncIterable<GitlabPage<T>> =>
    paginate<T>({
      api,
      apiBase,
      path,
      query,
      resumeFrom: pageOptions.resumeFrom,
      signal: pageOptions.signal,
    });
  const body = async <T>(response: Promise<{ body: T }>): Promise<T> => (await response).body;

  return {
    instanceUrl,
    rateLimit: { wouldWait: (category) => limiter.wouldWait(category) },
    users: {
      current: () => body(api.get<GitlabUser>('user')),
    },
    tokens: {
      self: () => body(api.get<GitlabTokenInfo>('personal_access_tokens/self')),
      listOf: async (userId) => {
        const all: GitlabTokenInfo[] = [];
        for await (const page of pages<GitlabTokenInfo>('personal_access_tokens', {
          user_id: userId,
          per_page: DEFAULT_PER_PAGE,
        })) {
          all.push(...page.items);
        }
        return all;
      },
    },
    instance: {
      version: () => body(api.get<GitlabVersion>('version')),
    },
    projects: {
      get: (idOrPath) => body(api.get<GitlabProject>(project(idOrPath))),
    },
    members: {
      getEffective: (projectId, userId) =>
        body(api.get<GitlabMember>(`${project(projectId)}/members/all/${seg(userId)}`)),
    },
    issues: {
      pages: (projectId, query = {}, pageOptions) =>
        pages<GitlabIssue>(`${project(projectId)}/issues`, issueListQuery(query), pageOptions),
      get: (projectId, issueIid, callOptions) =>
        body(api.get<GitlabIssue>(`${project(projectId)}/issues/${seg(issueIid)}`, {}, callOptions?.signal)),
      statistics: (projectId, query = {}) =>
        body(
          api.get<GitlabIssueStatistics>(`${project(projectId)}/issues_statistics`, {
            iids: query.iids && query.iids.length > 0 ? [...query.iids] : undefined,
          }),
        ),
      create: async (projectId, input) =>
        body(api.post<GitlabIssue>(`${project(projectId)}/issues`, issueBody(input))),
      update: async (projectId, issueIid, input) =>
        body(api.put<GitlabIssue>(`${project(projectId)}/issues/${seg(issueIid)}`, issueBody(input))),
    },
    notes: {
      pages: (projectId, issueIid, query = {}, pageOptions) =>
        pages<GitlabNote>(
          `${project(projectId)}/issues/${seg(issueIid)}/notes`,
          { ...query, per_page: query.per_page ?? DEFAULT_PER_PAGE },
          pageOptions,
        ),
      get: (projectId, issueIid, noteId, callOptions) =>
        body(
          api.get<GitlabNote>(
            `${project(projectId)}/issues/${seg(issueIid)}/notes/${seg(noteId)}`,
            {},
            callOptions?.signal,
          ),
        ),
      create: async (projectId, issueIid, input) => {
        const response = await api.post<
          GitlabNote | { commands_changes?: Record<string, unknown>; summary?: string[] }
        >(`${project(projectId)}/issues/${seg(issueIid)}/notes`, withoutUndefined({ ...input }));
        if (response.status === 202) {
          const commands = response.body as {
            commands_changes?: Record<string, unknown>;
            summary?: string[] | null;
          };
          return {
            kind: 'commands_only',
            commandsChanges: commands.commands_changes ?? {},
            summary: commands.summary ?? [],
          };
        }
        return { kind: 'created', note: response.body as GitlabNote };
      },
      update: (projectId, issueIid, noteId, input) =>
        body(
          api.put<GitlabNote>(`${project(projectId)}/issues/${seg(issueIid)}/notes/${seg(noteId)}`, {
            ...input,
          }),
        ),
      delete: (projectId, issueIid, noteId) =>
        api.delete(`${project(projectId)}/issues/${seg(issueIid)}/notes/${seg(noteId)}`),
    },
    labels: {
      pages: (projectId, query = {}, pageOptions) =>
        pages<GitlabLabel>(
          `${project(projectId)}/labels`,
          { ...query, per_page: query.per_page ?? DEFAULT_PER_PAGE },
          pageOptions,
        ),
      create: async (projectId, input) => {
        assertNoCommas([input.name], 'name');
        return body(api.post<GitlabLabel>(`${project(projectId)}/labels`, withoutUndefined({ ...input })));
      },
    },
    hooks: {
      pages: (projectId, pageOptions) =>
        pages<GitlabHook>(`${project(projectId)}/hooks`, { per_page: DEFAULT_PER_PAGE }, pageOptions),
      list: async (projectId) => {
        const all: GitlabHook[] = [];
        for await (const page of pages<GitlabHook>(`${project(projectId)}/hooks`, {
          per_page: DEFAULT_PER_PAGE,
        })) {
          all.push(...page.items);
        }
        return all;
      },
      get: (projectId, hookId) => body(api.get<GitlabHook>(`${project(projectId)}/hooks/${seg(hookId)}`)),
      create: (projectId, input) =>
        body(
          api.post<GitlabHook>(
            `${project(projectId)}/hooks`,
            withoutUndefined({ push_events: false, ...input }),
          ),
        ),
      update: (projectId, hookId, input) =>
        body(
          api.put<GitlabHook>(`${project(projectId)}/hooks/${seg(hookId)}`, withoutUndefined({ ...input })),
        ),
      delete: (projectId, hookId) => api.delete(`${project(projectId)}/hooks/${seg(hookId)}`),
      test: async (projectId, hookId, trigger) => {
        await api.post(`${project(projectId)}/hooks/${seg(hookId)}/test/${seg(trigger)}`, {});
      },
      events: (projectId, hookId, query = {}, pageOptions) =>
        pages<GitlabHookEvent>(
          `${project(projectId)}/hooks/${seg(hookId)}/events`,
          { ...query, per_page: query.per_page ?? DEFAULT_PER_PAGE },
          pageOptions,
        ),
    },
    close: () => {
      lease.release();
      return (closing ??= dispatcher.close());
    },
  };
}
