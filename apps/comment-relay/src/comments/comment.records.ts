import type { WriteState } from '../links/link.records';

/** A row of comment_relay.comments: a TestKase comment on a pushed defect, and its GitLab note. */
export interface CommentRecord extends WriteState {
  id: string;
  project_id: string;
  defect_id: string;
  comment_id: string;
  connection_id: string | null;
  author: string;
  /** GitLab Markdown, quick actions neutralised (the note adds the attribution and the marker). */
  body: string;
  deleted: boolean;
  revision: number;
  written_revision: number;
  note_id: string | null;
  outcome_unknown: boolean;
  created_at: Date;
  updated_at: Date;
}
