/**
 * Query and body parameters, named as GitLab names them (snake_case) so that docs/GITLAB.md ("Issues (REST)",
 * "Issue search and filters", "Notes (REST)", "Labels", "Project webhooks (REST)") and GitLab's docs read
 * straight across.
 */

/** A numeric project id, or its `namespace/project` path (encoded for you). */
export type ProjectRef = number | string;

export type SortDirection = 'asc' | 'desc';

export type IssueOrderBy =
  | 'created_at'
  | 'updated_at'
  | 'title'
  | 'id'
  | 'priority'
  | 'due_date'
  | 'relative_position'
  | 'label_priority'
  | 'milestone_due'
  | 'popularity'
  | 'weight';

export type IssueType = 'issue' | 'incident' | 'test_case' | 'task';

export interface IssueListQuery {
  /** Omitted: all states. */
  readonly state?: 'opened' | 'closed' | 'all';
  /** Issues carrying every one of these labels; `'None'` / `'Any'` are GitLab's special values. */
  readonly labels?: readonly string[] | 'None' | 'Any';
  /** ISO 8601; GitLab treats it as "on or after" (inclusive). */
  readonly updated_after?: string;
  readonly updated_before?: string;
  readonly created_after?: string;
  readonly created_before?: string;
  readonly order_by?: IssueOrderBy;
  readonly sort?: SortDirection;
  readonly search?: string;
  /** Where `search` looks (GitLab's default: title and description). */
  readonly in?: 'title' | 'description' | 'title,description';
  /** Issues this user opened. */
  readonly author_id?: number;
  readonly iids?: readonly number[];
  readonly issue_type?: IssueType;
  readonly confidential?: boolean;
  /** 1–100, default 100. */
  readonly per_page?: number;
  /**
   * Keyset pagination (GitLab 18.3+ for project issues): needs `order_by` and `sort`; defaults to
   * `updated_at` / `asc` when set. Older instances ignore it and page by offset; both are followed
   * through the `Link` header.
   */
  readonly keyset?: boolean;
}

export interface CreateIssueInput {
  readonly title: string;
  /** At most 1,048,576 characters. */
  readonly description?: string;
  /** Label names; missing ones are created as project labels. Names cannot contain commas. */
  readonly labels?: readonly string[];
  readonly confidential?: boolean;
  readonly assignee_ids?: readonly number[];
  readonly milestone_id?: number;
  readonly due_date?: string;
  readonly issue_type?: IssueType;
}

export interface UpdateIssueInput {
  readonly title?: string;
  readonly description?: string;
  readonly state_event?: 'close' | 'reopen';
  /** Replaces the whole set; `[]` clears it. */
  readonly labels?: readonly string[];
  readonly add_labels?: readonly string[];
  readonly remove_labels?: readonly string[];
  readonly confidential?: boolean;
  readonly discussion_locked?: boolean;
  readonly assignee_ids?: readonly number[];
  readonly milestone_id?: number | null;
  readonly due_date?: string | null;
  readonly issue_type?: IssueType;
}

export interface NoteListQuery {
  /** GitLab's default is `desc` (newest first). */
  readonly sort?: SortDirection;
  readonly order_by?: 'created_at' | 'updated_at';
  readonly per_page?: number;
}

export interface CreateNoteInput {
  /** At most 1,000,000 characters. A line starting with `/` is executed as a quick action. */
  readonly body: string;
  readonly internal?: boolean;
}

export interface UpdateNoteInput {
  readonly body: string;
}

export interface LabelListQuery {
  readonly search?: string;
  /** GitLab's default is true: group labels are listed too. */
  readonly include_ancestor_groups?: boolean;
  readonly with_counts?: boolean;
  readonly per_page?: number;
}

export interface CreateLabelInput {
  /** No commas, at most 255 characters. */
  readonly name: string;
  /** `#RRGGBB` or a CSS colour name. */
  readonly color: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface HookFields {
  readonly url?: string;
  readonly name?: string;
  readonly description?: string;
  /** Secret sent back as `X-Gitlab-Token`. GitLab drops it whenever `url` changes: resend it. */
  readonly token?: string;
  /**
   * `whsec_<base64 of a 32-byte key>`: GitLab then signs deliveries (Standard Webhooks headers). New
   * and behind the `webhook_signing_token` flag: a GitLab without it ignores the field, and the hook
   * it returns has no `signing_token_present: true`.
   */
  readonly signing_token?: string;
  readonly push_events?: boolean;
  readonly issues_events?: boolean;
  readonly confidential_issues_events?: boolean;
  readonly note_events?: boolean;
  readonly confidential_note_events?: boolean;
  readonly merge_requests_events?: boolean;
  readonly tag_push_events?: boolean;
  readonly enable_ssl_verification?: boolean;
}

/** `push_events` defaults to false here (GitLab's own default is true). */
export type CreateHookInput = HookFields & { readonly url: string };

export type UpdateHookInput = HookFields;

/** Triggers of `POST /projects/:id/hooks/:hook_id/test/:trigger` that this integration subscribes to. */
export type HookTestTrigger =
  'issues_events' | 'confidential_issues_events' | 'note_events' | 'confidential_note_events';

export interface HookEventQuery {
  /** An HTTP status, or GitLab's groups `successful`, `client_failure`, `server_failure`. */
  readonly status?: number | 'successful' | 'client_failure' | 'server_failure';
  readonly per_page?: number;
}

export interface PageOptions extends CallOptions {
  /** A `next` value from an earlier page of the same listing, to continue after a checkpoint. */
  readonly resumeFrom?: string;
}

/** Per-call options of a read. */
export interface CallOptions {
  /**
   * Aborts the call, its retries and its rate-limit waits: a consumer passes its message's
   * `InboundMessage.signal`, so that a message given up stops its GitLab work.
   */
  readonly signal?: AbortSignal;
}
