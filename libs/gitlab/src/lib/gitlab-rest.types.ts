/**
 * The REST shapes this library returns, exactly as GitLab sends them (snake_case, ISO 8601 UTC
 * timestamps as strings). Only the fields the integration uses are declared; nullables are
 * declared as GitLab sends them (see test/fixtures/gitlab/ and docs/GITLAB.md, "Issues (REST)",
 * "Notes (REST)", "Labels", "Project webhooks (REST)").
 */

/** `author`, `assignees[]`, `closed_by` and similar embedded users. Note authors omit the URLs. */
export interface GitlabUserRef {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly state?: string;
  readonly avatar_url?: string | null;
  readonly web_url?: string;
}

/** `GET /user`. */
export interface GitlabUser {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly state: string;
  readonly locked?: boolean;
  readonly bot?: boolean;
  readonly web_url: string;
  readonly avatar_url: string | null;
  /** Present only for the token owner themself. */
  readonly email?: string;
  readonly created_at?: string;
}

/** `GET /personal_access_tokens/self`. */
export interface GitlabTokenInfo {
  readonly id: number;
  readonly name: string;
  readonly revoked: boolean;
  readonly active: boolean;
  readonly scopes: readonly string[];
  readonly user_id: number;
  readonly created_at: string;
  readonly last_used_at: string | null;
  /** A date `YYYY-MM-DD`, or null for a token that never expires. */
  readonly expires_at: string | null;
  readonly description?: string | null;
}

/** `GET /version`. */
export interface GitlabVersion {
  /** `18.6.0`, `15.4.6-ee`, `8.13.0-pre`. */
  readonly version: string;
  readonly revision: string;
}

export interface GitlabAccess {
  readonly access_level: number;
  readonly notification_level?: number;
}

/** `GET /projects/:id`. */
export interface GitlabProject {
  readonly id: number;
  readonly name: string;
  readonly path: string;
  readonly path_with_namespace: string;
  readonly name_with_namespace?: string;
  readonly web_url: string;
  readonly default_branch?: string | null;
  readonly visibility?: string;
  readonly archived?: boolean;
  readonly issues_enabled?: boolean;
  readonly permissions?: {
    readonly project_access: GitlabAccess | null;
    readonly group_access: GitlabAccess | null;
  };
}

/** `GET /projects/:id/members/all/:user_id` (effective membership). */
export interface GitlabMember {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly state: string;
  /** 0 none, 5 minimal, 10 guest, 15 planner, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
  readonly access_level: number;
  readonly expires_at: string | null;
  readonly created_at?: string;
  readonly web_url?: string;
  readonly avatar_url?: string | null;
}

export interface GitlabIssueReferences {
  readonly short: string;
  readonly relative: string;
  readonly full: string;
}

/** Project issue (`GET/POST/PUT /projects/:id/issues[/:iid]`). REST `labels` are plain names. */
export interface GitlabIssue {
  readonly id: number;
  readonly iid: number;
  readonly project_id: number;
  readonly title: string;
  readonly description: string | null;
  readonly state: 'opened' | 'closed';
  readonly labels: readonly string[];
  readonly web_url: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at: string | null;
  readonly closed_by: GitlabUserRef | null;
  readonly author: GitlabUserRef;
  readonly assignees: readonly GitlabUserRef[];
  readonly confidential: boolean;
  readonly issue_type?: string;
  readonly type?: string;
  /** The global id of the issue this one was moved to, or null. */
  readonly moved_to_id?: number | null;
  readonly due_date?: string | null;
  readonly user_notes_count?: number;
  readonly references?: GitlabIssueReferences;
}

/** `GET /projects/:id/issues_statistics`: counts of the issues matching the filters. */
export interface GitlabIssueStatistics {
  readonly statistics: {
    readonly counts: { readonly all: number; readonly closed: number; readonly opened: number };
  };
}

/** Issue note. System notes (`system: true`) are included in lists: filter them yourself. */
export interface GitlabNote {
  readonly id: number;
  readonly body: string;
  readonly author: GitlabUserRef;
  readonly created_at: string;
  readonly updated_at: string;
  readonly system: boolean;
  /** The issue's global id (not the iid). */
  readonly noteable_id: number;
  readonly noteable_iid: number | null;
  readonly noteable_type: string;
  readonly project_id?: number;
  readonly internal?: boolean;
  readonly confidential?: boolean;
  readonly resolvable?: boolean;
}

/** Project label. REST labels carry `name` (webhook labels carry `title`). */
export interface GitlabLabel {
  readonly id: number;
  readonly name: string;
  readonly color: string;
  readonly text_color?: string;
  readonly description: string | null;
  readonly priority: number | null;
  readonly is_project_label?: boolean;
  readonly archived?: boolean;
}

/** Project webhook. GitLab never returns the secret token. */
export interface GitlabHook {
  readonly id: number;
  readonly url: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly project_id: number;
  readonly push_events: boolean;
  readonly issues_events: boolean;
  readonly confidential_issues_events: boolean;
  readonly note_events: boolean;
  readonly confidential_note_events: boolean;
  readonly merge_requests_events?: boolean;
  readonly tag_push_events?: boolean;
  readonly enable_ssl_verification: boolean;
  readonly alert_status?: 'executable' | 'temporarily_disabled' | 'disabled';
  readonly disabled_until?: string | null;
  readonly created_at: string;
  /** Whether the hook has a secret token (GitLab with the signing-token change, MR !231325). */
  readonly token_present?: boolean;
  /** Whether GitLab signs this hook's deliveries; absent where GitLab cannot sign. */
  readonly signing_token_present?: boolean;
}

/** One delivery from `GET /projects/:id/hooks/:hook_id/events` (GitLab 17.3+, last 7 days). */
export interface GitlabHookEvent {
  readonly id: number;
  readonly url: string;
  readonly trigger: string;
  readonly request_headers: Readonly<Record<string, string>>;
  readonly request_data: unknown;
  readonly response_headers: Readonly<Record<string, string>> | string;
  readonly response_body: string;
  readonly execution_duration: number;
  /** A string such as `"200"`, or `"internal error"` for a transport failure. */
  readonly response_status: string;
}

/** One page of a list endpoint. `next` is an opaque resume point (`pages(…, { resumeFrom: next })`). */
export interface GitlabPage<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

/**
 * `POST …/notes` answers 201 with the note, or 202 when the body held only quick actions
 * (`/close`, `/label ~x`): nothing was stored, the commands ran.
 */
export type GitlabCreateNoteResult =
  | { readonly kind: 'created'; readonly note: GitlabNote }
  | {
      readonly kind: 'commands_only';
      readonly commandsChanges: Readonly<Record<string, unknown>>;
      readonly summary: readonly string[];
    };
