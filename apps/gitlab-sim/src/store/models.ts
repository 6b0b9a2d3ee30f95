/**
 * The simulator's in-memory records. Times are epoch milliseconds; presenters turn them into the
 * formats GitLab uses on each surface (REST, webhooks, legacy webhooks).
 */

export const ACCESS_LEVELS = {
  none: 0,
  minimal: 5,
  guest: 10,
  planner: 15,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;
export type AccessLevel = 0 | 5 | 10 | 15 | 20 | 30 | 40 | 50;
export const VALID_ACCESS_LEVELS: readonly number[] = [5, 10, 15, 20, 30, 40, 50];

export type Visibility = 'private' | 'internal' | 'public';
export const VISIBILITY_LEVEL: Record<Visibility, number> = { private: 0, internal: 10, public: 20 };

export interface SimUser {
  id: number;
  username: string;
  name: string;
  email: string;
  publicEmail: string | null;
  state: 'active' | 'blocked';
  admin: boolean;
  bot: boolean;
  createdAt: number;
}

export interface SimToken {
  id: number;
  userId: number;
  name: string;
  description: string | null;
  /** The secret itself; never returned by any endpoint or written to a log. */
  value: string;
  scopes: string[];
  /** `YYYY-MM-DD` or null (never expires). */
  expiresAt: string | null;
  revoked: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface SimGroup {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  parentId: number | null;
  visibility: Visibility;
  createdAt: number;
}

export interface SimMember {
  userId: number;
  accessLevel: AccessLevel;
  createdAt: number;
  createdById: number | null;
  expiresAt: string | null;
}

export interface SimProject {
  id: number;
  name: string;
  path: string;
  pathWithNamespace: string;
  description: string | null;
  namespaceId: number;
  visibility: Visibility;
  defaultBranch: string;
  createdAt: number;
  lastActivityAt: number;
  issuesEnabled: boolean;
  /** When set, nobody may create labels (POST …/labels answers 403; unknown labels on issues are skipped). */
  labelCreationForbidden: boolean;
  /** Per-project override of GITLAB_SIM_LEGACY_PAYLOADS; null follows the global setting. */
  legacyPayloads: boolean | null;
  nextIid: number;
  archived: boolean;
  /** GitLab's verdict on new issues, as a test wants it (null: nothing is spam). */
  spamCheck: SpamCheckSetting | null;
}

/**
 * Stands in for GitLab's spam verdict (Akismet/Spamcheck) on REST issue writes: a title or
 * description containing one of the keywords (case-insensitive) is spam.
 */
export interface SpamCheckSetting {
  keywords: string[];
  /** reCAPTCHA configured: the answer asks for a CAPTCHA (409) instead of refusing (400). */
  captcha: boolean;
  /** `captcha_site_key` of the 409 answer (the instance's `recaptcha_site_key`). */
  captchaSiteKey: string;
}

/** A SpamLog row: one write judged spam; its id comes back in `X-GitLab-Spam-Log-Id` with a solved CAPTCHA. */
export interface SimSpamLog {
  id: number;
  userId: number;
  projectId: number;
  title: string;
  createdAt: number;
  recaptchaVerified: boolean;
}

/** Work item types. REST `issue_type` values are the snake_case names. */
export const WORK_ITEM_TYPES = [
  'Issue',
  'Incident',
  'Test Case',
  'Task',
  'Requirement',
  'Objective',
  'Key Result',
  'Epic',
] as const;
export type WorkItemType = (typeof WORK_ITEM_TYPES)[number];
/** Types that the REST issues API serves (`WorkItems::Type.allowed_types_for_issues`). */
export const REST_ISSUE_TYPES: readonly WorkItemType[] = ['Issue', 'Incident', 'Test Case', 'Task'];

export interface SimIssue {
  id: number;
  iid: number;
  projectId: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  type: WorkItemType;
  confidential: boolean;
  discussionLocked: boolean | null;
  authorId: number;
  assigneeIds: number[];
  /** Label ids in the order they were added. */
  labelIds: number[];
  dueDate: string | null;
  weight: number | null;
  relativePosition: number | null;
  upvotes: number;
  createdAt: number;
  updatedAt: number;
  updatedById: number | null;
  closedAt: number | null;
  closedById: number | null;
  lastEditedAt: number | null;
  lastEditedById: number | null;
  userNotesCount: number;
  /** The global id of the issue this one was moved to (`POST …/issues/:iid/move`), else null/absent. */
  movedToId?: number | null;
  /** Bumped on every change; presenters cache their JSON per version. */
  version: number;
  deleted: boolean;
}

export interface SimNote {
  id: number;
  issueId: number;
  projectId: number;
  body: string;
  authorId: number;
  system: boolean;
  internal: boolean;
  createdAt: number;
  updatedAt: number;
  updatedById: number | null;
  discussionId: string;
}

export interface SimLabel {
  id: number;
  title: string;
  color: string;
  description: string | null;
  priority: number | null;
  projectId: number | null;
  groupId: number | null;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export const HOOK_EVENT_FLAGS = [
  'push_events',
  'issues_events',
  'confidential_issues_events',
  'merge_requests_events',
  'tag_push_events',
  'note_events',
  'confidential_note_events',
  'job_events',
  'pipeline_events',
  'wiki_page_events',
  'deployment_events',
  'releases_events',
  'feature_flag_events',
  'milestone_events',
  'emoji_events',
  'resource_access_token_events',
  'vulnerability_events',
  'repository_update_events',
] as const;
export type HookEventFlag = (typeof HOOK_EVENT_FLAGS)[number];

export interface SimHook {
  id: number;
  projectId: number;
  url: string;
  name: string;
  description: string;
  token: string | null;
  /** `whsec_<base64 key>` (Standard Webhooks). */
  signingToken: string | null;
  events: Record<HookEventFlag, boolean>;
  pushEventsBranchFilter: string;
  branchFilterStrategy: string;
  enableSslVerification: boolean;
  customWebhookTemplate: string | null;
  customHeaders: Array<{ key: string; value: string }>;
  urlVariables: Array<{ key: string; value: string }>;
  createdAt: number;
  /** Consecutive failures (WebHooks::AutoDisabling#recent_failures). */
  recentFailures: number;
  backoffCount: number;
  disabledUntil: number | null;
}

export type HookTrigger =
  'issue_hooks' | 'confidential_issue_hooks' | 'note_hooks' | 'confidential_note_hooks';

export type DeliveryOutcome = 'success' | 'failure' | 'dropped' | 'skipped_disabled';

/** One attempt to send one event to one hook (also what the hook events API lists). */
export interface DeliveryRecord {
  id: number;
  hookId: number;
  projectId: number;
  url: string;
  trigger: HookTrigger;
  event: string;
  /** Headers as sent, X-Gitlab-Token included (redacted by the presenters). */
  requestHeaders: Record<string, string>;
  body: string;
  idempotencyKey: string;
  eventUuid: string;
  webhookUuid: string;
  /** When this is a resend, the id of the delivery it repeats. */
  resendOf: number | null;
  /** High-resolution epoch milliseconds of the moment the request left. */
  sentAt: number;
  durationMs: number | null;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string;
  error: string | null;
  outcome: DeliveryOutcome | 'pending';
}
