/** A row of comment_relay.requirements: a synced requirement's GitLab issue (from requirement-sync's events). */
export interface RequirementTarget {
  requirement_id: string;
  project_id: string;
  connection_id: string | null;
  instance_url: string;
  /** bigint, as pg returns it. */
  gitlab_project_id: string;
  iid: number;
  confidential: boolean;
  sync_state: 'synced' | 'detached';
  version: number;
}

/** A row of comment_relay.defects: a pushed defect's GitLab issue (from defect-sync's events). */
export interface DefectTarget {
  project_id: string;
  defect_id: string;
  connection_id: string | null;
  instance_url: string;
  gitlab_project_id: string;
  iid: number;
  version: number;
  notes_checked_at: Date | null;
}
