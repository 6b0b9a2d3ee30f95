import type { ConnectionMode } from '@testkase/contracts';

/**
 * A row of `<schema>.connections`: what a consumer knows of a connection, from connection-service's
 * `integration.connection.*` events. Apps may keep more columns in the same table (requirement-sync
 * keeps its sync progress there) and extend this type.
 */
export interface ConnectionRecord {
  connection_id: string;
  /** TestKase project. */
  project_id: string;
  /** Normalised (`https://gitlab.example.com/gitlab`: lower-case host, no trailing slash). */
  instance_url: string;
  /** bigint, as pg returns it. */
  gitlab_project_id: string;
  project_path: string;
  project_web_url: string;
  mode: ConnectionMode;
  token_user_id: string | null;
  state: 'active' | 'disconnected';
  state_changed_at: Date;
  auth_failed_at: Date | null;
  /** Set while an operator has paused the connection's sync (no sync work; webhook events held). */
  paused_at?: Date | null;
}

/** Where a connection's GitLab issues live, and whose they are. */
export interface ProjectContext {
  readonly connectionId: string;
  /** TestKase project. */
  readonly projectId: string;
  readonly instanceUrl: string;
  readonly gitlabProjectId: number;
  /** The GitLab project's web URL: issue links are checked against it, relative links resolved. */
  readonly projectWebUrl: string;
}

export const projectContextOf = (connection: ConnectionRecord): ProjectContext => ({
  connectionId: connection.connection_id,
  projectId: connection.project_id,
  instanceUrl: connection.instance_url,
  gitlabProjectId: Number(connection.gitlab_project_id),
  projectWebUrl: connection.project_web_url,
});

/** `https://GitLab.example.com/gitlab/` → `https://gitlab.example.com/gitlab`: one spelling per instance. */
export function normaliseInstanceUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
