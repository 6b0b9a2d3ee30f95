import type { ConnectionMode } from '@testkase/contracts';

import type { ProjectContext } from '../requirements/requirement-mapping';

export type BackfillState = 'pending' | 'running' | 'completed' | 'failed';

/** A row of requirement_sync.connections: what this service knows of a connection, and its sync progress. */
export interface ConnectionRecord {
  connection_id: string;
  project_id: string;
  instance_url: string;
  gitlab_project_id: string;
  project_path: string;
  project_web_url: string;
  mode: ConnectionMode;
  token_user_id: string | null;
  state: 'active' | 'disconnected';
  state_changed_at: Date;
  auth_failed_at: Date | null;
  backfill_state: BackfillState;
  backfill_cursor: string | null;
  backfill_imported: number;
  backfill_expected: number | null;
  backfill_started_at: Date | null;
  backfill_finished_at: Date | null;
  watermark: Date | null;
  last_reconciled_at: Date | null;
  last_full_sweep_at: Date | null;
  full_sweep_requested_at: Date | null;
}

export const projectContextOf = (connection: ConnectionRecord): ProjectContext => ({
  connectionId: connection.connection_id,
  projectId: connection.project_id,
  instanceUrl: connection.instance_url,
  gitlabProjectId: Number(connection.gitlab_project_id),
  projectWebUrl: connection.project_web_url,
});
