/** A row of comment_relay.test_case_links. */
export interface TestCaseLinkRecord {
  project_id: string;
  requirement_id: string;
  test_case_id: string;
  key: string;
  title: string;
  url: string;
  status: string | null;
  linked_at: Date;
  updated_at: Date;
}

/** What failed last, and whether it is tried again. */
export interface WriteState {
  next_attempt_at: Date | null;
  waiting_since: Date | null;
  failures: number;
  error_code: string | null;
  error_message: string | null;
  error_at: Date | null;
}

/** A row of comment_relay.link_comments: a requirement's one comment and what it should show. */
export interface LinkCommentRecord extends WriteState {
  id: string;
  project_id: string;
  requirement_id: string;
  connection_id: string | null;
  /** Bumped by every link change; the comment is right when written_revision has caught up. */
  revision: number;
  written_revision: number;
  /** bigint as pg returns it. */
  note_id: string | null;
  note_internal: boolean | null;
  body_sha256: string | null;
  outcome_unknown: boolean;
  dirty_since: Date | null;
  notes_checked_at: Date | null;
}
