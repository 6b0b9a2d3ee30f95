/**
 * A typed client for the GitLab simulator's control API (`/__sim`, apps/gitlab-sim/README.md).
 * Uses global fetch; no dependency on the simulator's code.
 */

export type SimVisibility = 'private' | 'internal' | 'public';
export type SimWorkItemType =
  'Issue' | 'Incident' | 'Test Case' | 'Task' | 'Requirement' | 'Objective' | 'Key Result' | 'Epic';
/** 10 guest, 15 planner, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
export type SimAccessLevel = 5 | 10 | 15 | 20 | 30 | 40 | 50;
/** A project by numeric id or full path (`group/sub/project`). */
export type SimProjectRef = number | string;

export const SIM_ACCESS = {
  guest: 10,
  planner: 15,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

export interface SimUserInfo {
  id: number;
  username: string;
  name: string;
  email?: string;
  admin: boolean;
  state: 'active' | 'blocked';
}

export interface SimTokenInfo {
  id: number;
  userId: number;
  /** The secret, returned once at creation. */
  token: string;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  revoked: boolean;
}

export interface SimProjectInfo {
  id: number;
  pathWithNamespace: string;
  visibility: SimVisibility;
  webUrl: string;
}

export interface SimProjectSettings {
  id: number;
  pathWithNamespace: string;
  visibility: SimVisibility;
  labelCreationForbidden: boolean;
  /** null follows the global setting. */
  legacyPayloads: boolean | null;
  issuesEnabled: boolean;
  archived: boolean;
  /** null: no issue is spam. */
  spamCheck: SimSpamCheck | null;
}

/**
 * GitLab's spam verdict on REST issue writes of a project: a title or description containing a
 * keyword (case-insensitive) is spam. With `captcha` the API answers 409 asking for a CAPTCHA
 * (resubmit with `X-GitLab-Captcha-Response` and `X-GitLab-Spam-Log-Id`), without it 400.
 */
export interface SimSpamCheck {
  keywords: string[];
  captcha: boolean;
  /** `captcha_site_key` of the 409 answer. */
  captchaSiteKey: string;
}

export interface SimSpamCheckInput {
  keywords: string[];
  /** Default false. */
  captcha?: boolean;
  /** Default Google's public reCAPTCHA v2 test key. */
  captchaSiteKey?: string;
}

export interface SimRateLimits {
  requestsPerMinute: number | null;
  issueCreatesPerMinute: number | null;
  noteCreatesPerMinute: number | null;
  hookTestsPerMinute: number | null;
}

export interface SimSettings {
  legacyPayloads: boolean;
  rateLimits: SimRateLimits;
  offsetPaginationLimit: number;
  autoDisableHooks: boolean;
  deliveryTimeoutMs: number;
  webhookSigningTokens: boolean;
  dropDeliveries: { next: number; percent: number };
  /** The GitLab version claimed (`GET /version`); older versions lack the routes later releases added. */
  gitlabVersion: string;
}

export interface SimBulkIssues {
  count: number;
  closedPercent?: number;
  confidentialPercent?: number;
  priorityLabelsPercent?: number;
  labels?: string[];
  /** `{{n}}` = sequence number in the batch, `{{iid}}` = iid. */
  titleTemplate?: string;
  descriptionTemplate?: string | null;
  /** Username of the author (default: the project's highest-ranked member). */
  author?: string;
  /** created_at of the first issue (ISO 8601). */
  startAt?: string;
  intervalMs?: number;
  seed?: number;
}

/** An issue as the REST API presents it (the fields tests use most; the rest is there too). */
export interface SimIssue {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  labels: string[];
  confidential: boolean;
  web_url: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  issue_type: string;
  [field: string]: unknown;
}

export interface SimNote {
  id: number;
  body: string;
  system: boolean;
  internal: boolean;
  noteable_id: number;
  noteable_iid: number;
  created_at: string;
  updated_at: string;
  [field: string]: unknown;
}

export type SimNoteResult =
  | { kind: 'note'; note: SimNote }
  | { kind: 'commands'; commands_changes: Record<string, unknown>; summary: string[] };

export interface SimIssueWrite {
  /** Username of the actor (the webhook's `user`). */
  as: string;
  title?: string;
  description?: string | null;
  labels?: string[];
  confidential?: boolean;
  /** Usernames. */
  assignees?: string[];
  dueDate?: string | null;
}

export interface SimIssueUpdate extends Partial<SimIssueWrite> {
  as: string;
  stateEvent?: 'close' | 'reopen';
  addLabels?: string[];
  removeLabels?: string[];
  discussionLocked?: boolean;
  type?: SimWorkItemType;
}

export type SimFaultKind = 'latency' | 'status' | 'rate_limit' | 'timeout' | 'drop';
/**
 * `before` (default): the fault answers instead of the route, nothing happens on the server.
 * `after`: the route runs (the issue is created, webhooks fire, limits count) and then its answer
 * is replaced (`status`), delayed (`latency`), never sent (`timeout`) or the connection is reset
 * (`drop`): a GitLab that committed the write but whose answer was lost. Not for `rate_limit`.
 */
export type SimFaultPhase = 'before' | 'after';

export interface SimFaultSpec {
  /** HTTP method or `*` (default). */
  method?: string;
  /** Path glob: `*` within a segment, `**` across (e.g. `/api/v4/projects/*\/issues`). */
  path: string;
  kind: SimFaultKind;
  /** Default `before`. */
  phase?: SimFaultPhase;
  latencyMs?: number;
  status?: number;
  body?: unknown;
  retryAfter?: number;
  /** Only the next N matching requests (default: until removed). */
  count?: number;
  /** 0..1, default 1. */
  probability?: number;
}

export interface SimFault extends Required<
  Pick<SimFaultSpec, 'method' | 'path' | 'kind' | 'phase' | 'probability'>
> {
  id: number;
  hits: number;
  count: number | null;
  latencyMs?: number;
  status?: number;
  retryAfter?: number;
  body?: unknown;
}

export type SimDeliveryOutcome = 'success' | 'failure' | 'dropped' | 'skipped_disabled' | 'pending';

export interface SimDelivery {
  id: number;
  hookId: number;
  projectId: number;
  url: string;
  /** X-Gitlab-Event. */
  event: string;
  trigger: string;
  idempotencyKey: string;
  eventUuid: string;
  webhookUuid: string;
  resendOf: number | null;
  /** High-resolution epoch ms when the request left the simulator. */
  sentAt: number;
  durationMs: number | null;
  responseStatus: number | null;
  outcome: SimDeliveryOutcome;
  error: string | null;
  /** As sent, X-Gitlab-Token redacted. */
  requestHeaders: Record<string, string>;
  payload: Record<string, unknown>;
}

export interface SimDeliveryQuery {
  project?: SimProjectRef;
  hook?: number;
  /** Epoch ms: only deliveries sent at or after. */
  since?: number;
  outcome?: SimDeliveryOutcome;
  limit?: number;
}

/** One REST API request the simulator received (`GET /__sim/api-requests`). */
export interface SimApiRequest {
  id: number;
  /** High-resolution epoch ms (real time) of the request's arrival. */
  at: number;
  method: string;
  /** Without the query string, as sent (`/api/v4/projects/acme%2Fapp/issues`). */
  path: string;
  /** The query string without `?` and `private_token` (`order_by=updated_at&updated_after=…`), or ''. */
  query: string;
  /** Fastify route pattern (`/api/v4/projects/:id/issues`); null when no route matched. */
  route: string | null;
  /** What the client got; null when it got no answer (timeout, dropped connection) or none yet. */
  status: number | null;
  /** The owner of a valid token; null for anonymous requests and refused tokens. */
  username: string | null;
  /** The numeric id of the project the route names; null otherwise. */
  projectId: number | null;
}

export interface SimApiRequestQuery {
  /** Epoch ms: only requests that arrived at or after. */
  since?: number;
  /** One method or several (`['POST', 'PUT']`). */
  method?: string | readonly string[];
  project?: SimProjectRef;
  /** The newest N matching requests (default 10,000, at most 100,000), still oldest first. */
  limit?: number;
}

/** The methods that write (`countApiWrites`). */
export const SIM_WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface SimHookState {
  id: number;
  projectId: number;
  url: string;
  events: Record<string, boolean>;
  alertStatus: 'executable' | 'temporarily_disabled' | 'disabled';
  disabledUntil: number | null;
  recentFailures: number;
  backoffCount: number;
  tokenPresent: boolean;
  signingTokenPresent: boolean;
}

export interface SimState {
  clock: { now: number; offsetMs: number };
  settings: SimSettings;
  users: Array<Record<string, unknown>>;
  tokens: Array<Record<string, unknown>>;
  groups: Array<Record<string, unknown>>;
  projects: Array<Record<string, unknown>>;
  labels: Array<Record<string, unknown>>;
  hooks: Array<Record<string, unknown>>;
  issues: Array<Record<string, unknown>>;
  notes: Array<Record<string, unknown>>;
  /** Writes judged spam (`spamCheck`), with the ids the 409 answers gave out. */
  spamLogs: Array<Record<string, unknown>>;
  counts: { issues: number; notes: number; deliveries: number; apiRequests: number };
}

/** A non-2xx answer of the control API. */
export class GitlabSimError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly route: string,
  ) {
    super(
      `gitlab-sim ${route} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`,
    );
    this.name = 'GitlabSimError';
  }
}

const projectPath = (ref: SimProjectRef): string => encodeURIComponent(String(ref));

export class GitlabSimClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** The simulator's REST API root (`<base>/api/v4`), e.g. for @gitbeaker's `host` use `baseUrl`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/v4`;
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/__sim${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw new GitlabSimError(response.status, parsed, `${method} /__sim${route}`);
    return parsed as T;
  }

  // Lifecycle, settings, clock

  /** Empties the simulator (settings back to configuration); `demo: true` re-seeds the demo. */
  async reset(options: { demo?: boolean; resetClock?: boolean } = {}): Promise<void> {
    await this.call('POST', '/reset', options);
  }

  state(query: { project?: SimProjectRef; limit?: number } = {}): Promise<SimState> {
    const params = new URLSearchParams();
    if (query.project !== undefined) params.set('project', String(query.project));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const suffix = params.size > 0 ? `?${params}` : '';
    return this.call('GET', `/state${suffix}`);
  }

  settings(): Promise<SimSettings> {
    return this.call('GET', '/settings');
  }

  updateSettings(
    patch: Partial<
      Pick<
        SimSettings,
        | 'legacyPayloads'
        | 'offsetPaginationLimit'
        | 'autoDisableHooks'
        | 'deliveryTimeoutMs'
        | 'webhookSigningTokens'
        | 'gitlabVersion'
      >
    >,
  ): Promise<SimSettings> {
    return this.call('PATCH', '/settings', patch);
  }

  rateLimits(): Promise<SimRateLimits> {
    return this.call('GET', '/rate-limits');
  }

  /** `preset` first (off | gitlab.com), then individual limits (null = unlimited). */
  setRateLimits(limits: Partial<SimRateLimits> & { preset?: 'off' | 'gitlab.com' }): Promise<SimRateLimits> {
    return this.call('PUT', '/rate-limits', limits);
  }

  clock(): Promise<{ now: number; offsetMs: number }> {
    return this.call('GET', '/clock');
  }

  /** Moves the simulator's clock forward (token expiry, rate-limit windows, hook back-off). */
  advanceClock(ms: number): Promise<{ now: number; offsetMs: number }> {
    return this.call('POST', '/clock/advance', { ms });
  }

  resetClock(): Promise<{ now: number; offsetMs: number }> {
    return this.call('POST', '/clock/reset', {});
  }

  // Users, tokens, groups, projects, members, labels

  createUser(input: {
    username: string;
    name?: string;
    email?: string;
    publicEmail?: string;
    admin?: boolean;
    bot?: boolean;
    state?: 'active' | 'blocked';
  }): Promise<SimUserInfo> {
    return this.call('POST', '/users', input);
  }

  updateUser(
    username: string,
    patch: { state?: 'active' | 'blocked'; admin?: boolean; name?: string; publicEmail?: string | null },
  ): Promise<SimUserInfo> {
    return this.call('PATCH', `/users/${encodeURIComponent(username)}`, patch);
  }

  createToken(input: {
    username: string;
    token?: string;
    name?: string;
    scopes?: string[];
    expiresAt?: string | null;
    revoked?: boolean;
  }): Promise<SimTokenInfo> {
    return this.call('POST', '/tokens', input);
  }

  revokeToken(
    ref: { id: number } | { token: string },
  ): Promise<{ id: number; revoked: true; active: false }> {
    return this.call('POST', '/tokens/revoke', ref);
  }

  /** Makes the token expired now (or sets another `expiresAt`, YYYY-MM-DD). */
  expireToken(
    ref: ({ id: number } | { token: string }) & { expiresAt?: string },
  ): Promise<{ id: number; expiresAt: string; active: boolean }> {
    return this.call('POST', '/tokens/expire', ref);
  }

  createGroup(input: {
    path: string;
    visibility?: SimVisibility;
  }): Promise<{ id: number; fullPath: string; parentId: number | null; visibility: SimVisibility }> {
    return this.call('POST', '/groups', input);
  }

  /** `path` includes the groups (created as needed): `group/sub/project`. */
  createProject(input: {
    path: string;
    name?: string;
    description?: string;
    visibility?: SimVisibility;
    defaultBranch?: string;
    issuesEnabled?: boolean;
  }): Promise<SimProjectInfo> {
    return this.call('POST', '/projects', input);
  }

  updateProject(
    project: SimProjectRef,
    patch: {
      labelCreationForbidden?: boolean;
      legacyPayloads?: boolean | null;
      issuesEnabled?: boolean;
      visibility?: SimVisibility;
      archived?: boolean;
      /** null switches the spam check off. */
      spamCheck?: SimSpamCheckInput | null;
    },
  ): Promise<SimProjectSettings> {
    return this.call('PATCH', `/projects/${projectPath(project)}`, patch);
  }

  /** Adds or changes a membership of a project or of a group (inherited by its projects). */
  addMember(input: {
    project?: SimProjectRef;
    group?: string;
    username: string;
    accessLevel: SimAccessLevel;
    expiresAt?: string;
  }): Promise<{ userId: number; accessLevel: number }> {
    return this.call('POST', '/members', {
      ...input,
      project: input.project === undefined ? undefined : String(input.project),
    });
  }

  async removeMember(input: { project?: SimProjectRef; group?: string; username: string }): Promise<void> {
    await this.call('DELETE', '/members', {
      ...input,
      project: input.project === undefined ? undefined : String(input.project),
    });
  }

  createLabel(
    project: SimProjectRef,
    input: { name: string; color?: string; description?: string; priority?: number },
  ): Promise<{ id: number; title: string; color: string; projectId: number }> {
    return this.call('POST', `/projects/${projectPath(project)}/labels`, input);
  }

  createGroupLabel(
    groupPath: string,
    input: { name: string; color?: string; description?: string; priority?: number },
  ): Promise<{ id: number; title: string; color: string; groupId: number }> {
    return this.call('POST', `/groups/${encodeURIComponent(groupPath)}/labels`, input);
  }

  // Issues, work items and notes (acting as a user fires webhooks like the REST API does)

  /** Many issues at once, without webhooks (100,000 in well under a second). */
  seedIssues(
    project: SimProjectRef,
    input: SimBulkIssues,
  ): Promise<{ created: number; firstIid: number; lastIid: number; ms: number }> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/bulk`, input);
  }

  /**
   * `count` writes by one user in one call, each firing webhooks like the REST write: `create`
   * opens issues, `comment` adds notes and `update` retitles one issue (`iid`, else a new one).
   */
  burst(
    project: SimProjectRef,
    input: { as: string; count: number; action?: 'create' | 'comment' | 'update'; iid?: number },
  ): Promise<{ action: string; count: number; iid: number | null; ms: number }> {
    return this.call('POST', `/projects/${projectPath(project)}/burst`, input);
  }

  /** Several issue edits by one user in one call, in order, each firing its webhooks. */
  editIssues(
    project: SimProjectRef,
    input: { as: string; edits: Array<Omit<SimIssueUpdate, 'as'> & { iid: number }> },
  ): Promise<{ count: number; ms: number }> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/edits`, input);
  }

  createIssue(
    project: SimProjectRef,
    input: SimIssueWrite & { title: string; type?: SimWorkItemType },
  ): Promise<SimIssue> {
    return this.call('POST', `/projects/${projectPath(project)}/issues`, input);
  }

  /** A Task, Incident, Objective, … sent as `object_kind: work_item` webhooks. */
  createWorkItem(
    project: SimProjectRef,
    input: SimIssueWrite & { title: string; type: SimWorkItemType },
  ): Promise<SimIssue> {
    return this.call('POST', `/projects/${projectPath(project)}/work-items`, input);
  }

  updateIssue(project: SimProjectRef, iid: number, input: SimIssueUpdate): Promise<SimIssue> {
    return this.call('PUT', `/projects/${projectPath(project)}/issues/${iid}`, input);
  }

  closeIssue(project: SimProjectRef, iid: number, as: string): Promise<SimIssue> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/${iid}/close`, { as });
  }

  reopenIssue(project: SimProjectRef, iid: number, as: string): Promise<SimIssue> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/${iid}/reopen`, { as });
  }

  /** Replaces the issue's labels (like `PUT …/issues/:iid` with `labels`). */
  relabelIssue(project: SimProjectRef, iid: number, as: string, labels: string[]): Promise<SimIssue> {
    return this.updateIssue(project, iid, { as, labels });
  }

  /**
   * Moves an issue to another project as `POST …/issues/:iid/move` does: the new issue is answered;
   * the original is closed with `moved_to_id` pointing at it, and a `moved to` system note.
   */
  moveIssue(
    project: SimProjectRef,
    iid: number,
    input: { as: string; toProject: SimProjectRef },
  ): Promise<SimIssue> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/${iid}/move`, input);
  }

  /** Deletes an issue (GitLab sends no webhook for it). */
  async deleteIssue(project: SimProjectRef, iid: number): Promise<void> {
    await this.call('DELETE', `/projects/${projectPath(project)}/issues/${iid}`);
  }

  /** A note; a body made only of quick actions (`/close`) is executed and gives `kind: 'commands'`. */
  addNote(
    project: SimProjectRef,
    iid: number,
    input: { as: string; body: string; internal?: boolean },
  ): Promise<SimNoteResult> {
    return this.call('POST', `/projects/${projectPath(project)}/issues/${iid}/notes`, input);
  }

  editNote(
    project: SimProjectRef,
    iid: number,
    noteId: number,
    input: { as: string; body: string },
  ): Promise<SimNote> {
    return this.call('PUT', `/projects/${projectPath(project)}/issues/${iid}/notes/${noteId}`, input);
  }

  async deleteNote(project: SimProjectRef, iid: number, noteId: number): Promise<void> {
    await this.call('DELETE', `/projects/${projectPath(project)}/issues/${iid}/notes/${noteId}`);
  }

  // Faults

  addFault(spec: SimFaultSpec): Promise<SimFault> {
    return this.call('POST', '/faults', spec);
  }

  faults(): Promise<SimFault[]> {
    return this.call('GET', '/faults');
  }

  async removeFault(id: number): Promise<void> {
    await this.call('DELETE', `/faults/${id}`);
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  // REST API request log

  /** REST requests the simulator received (not control, health, metrics or docs), oldest first. */
  async apiRequests(query: SimApiRequestQuery = {}): Promise<SimApiRequest[]> {
    const params = new URLSearchParams();
    if (query.since !== undefined) params.set('since', String(query.since));
    if (query.method !== undefined)
      params.set('method', typeof query.method === 'string' ? query.method : query.method.join(','));
    if (query.project !== undefined) params.set('project', String(query.project));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const suffix = params.size > 0 ? `?${params}` : '';
    const { requests } = await this.call<{ requests: SimApiRequest[] }>('GET', `/api-requests${suffix}`);
    return requests;
  }

  /** How many POST/PUT/PATCH/DELETE requests matched (all of them, up to the log's 100,000). */
  async countApiWrites(query: Omit<SimApiRequestQuery, 'method' | 'limit'> = {}): Promise<number> {
    return (await this.apiRequests({ ...query, method: SIM_WRITE_METHODS, limit: 100_000 })).length;
  }

  async clearApiRequests(): Promise<void> {
    await this.call('DELETE', '/api-requests');
  }

  // Webhook deliveries and hooks

  /** GitLab "never sends" the next `next` deliveries, then `percent` % of the rest. */
  dropDeliveries(input: { next?: number; percent?: number }): Promise<{ next: number; percent: number }> {
    return this.call('POST', '/deliveries/drop', input);
  }

  deliveries(query: SimDeliveryQuery = {}): Promise<SimDelivery[]> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const suffix = params.size > 0 ? `?${params}` : '';
    return this.call('GET', `/deliveries${suffix}`);
  }

  delivery(id: number): Promise<SimDelivery> {
    return this.call('GET', `/deliveries/${id}`);
  }

  /** Sends a past delivery again with the same Idempotency-Key (and webhook-id). */
  resendDelivery(id: number): Promise<SimDelivery> {
    return this.call('POST', `/deliveries/${id}/resend`, {});
  }

  /** Resolves when no delivery is queued or in flight. */
  async flushDeliveries(): Promise<void> {
    await this.call('POST', '/deliveries/flush', {});
  }

  /** Polls until `predicate` holds for the deliveries matching `query` (default 10 s). */
  async waitForDeliveries(
    query: SimDeliveryQuery,
    predicate: (deliveries: SimDelivery[]) => boolean,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<SimDelivery[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const deliveries = await this.deliveries(query);
      if (predicate(deliveries)) return deliveries;
      if (Date.now() > deadline)
        throw new Error(`waitForDeliveries: condition not met; last saw ${deliveries.length} deliveries`);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
  }

  hook(id: number): Promise<SimHookState> {
    return this.call('GET', `/hooks/${id}`);
  }

  /** Re-enables a disabled hook (as a successful test delivery would). */
  enableHook(id: number): Promise<SimHookState> {
    return this.call('POST', `/hooks/${id}/enable`, {});
  }
}
