import type { DefectSyncStatusV1, DefectV1, DefectWarningV1 } from '@testkase/contracts';
import type { DefectPriority, DefectStatus, IssueState } from '@testkase/sync-rules';

import type { ExecutionContext } from './issue-content';

/** Fields a TestKase change marks for writing to GitLab. */
export type DefectField = 'title' | 'description' | 'priority' | 'status';
export const DEFECT_FIELDS: readonly DefectField[] = ['title', 'description', 'priority', 'status'];

/** A row of defect_sync.defects. */
export interface DefectRecord {
  id: string;
  project_id: string;
  defect_id: string;
  connection_id: string | null;
  detached_at: Date | null;
  instance_url: string;
  /** bigint, as pg returns it. */
  gitlab_project_id: string;
  iid: number | null;
  issue_id: string | null;
  web_url: string | null;
  push_state: 'queued' | 'created' | 'failed';
  push_attempts: number;
  push_started_at: Date | null;
  /** An attempt may have created the issue without us learning of it: look for the marker first. */
  push_outcome_unknown: boolean;
  pushed_at: Date | null;
  title: string;
  /** GitLab Markdown. */
  description: string;
  url: string;
  context: ExecutionContext | null;
  priority: DefectPriority;
  status: DefectStatus;
  /** When TestKase last changed each field (ISO): the "later edit wins" rule compares with GitLab's updated_at. */
  field_times: Partial<Record<DefectField, string>>;
  /** Fields TestKase changed that GitLab does not show yet. */
  dirty: DefectField[];
  gl_title: string | null;
  gl_description: string | null;
  gl_state: IssueState | null;
  gl_labels: string[] | null;
  gl_updated_at: Date | null;
  gl_updated_at_exact: boolean | null;
  /** The priority label the issue should carry but does not (it could not be created or set). */
  pending_label: string | null;
  warnings: DefectWarningV1[];
  error_code: string | null;
  error_message: string | null;
  error_at: Date | null;
  /** When the lane works on this defect next (a push, a write, a retry); null: nothing to do. */
  next_attempt_at: Date | null;
  failures: number;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * The status TestKase shows: `detached` once disconnected; `failed` when an error waits for someone
 * to act (nothing retries it on its own); `pending` while a push or a write is queued or retried;
 * `synced` otherwise.
 */
export function syncStatusOf(record: DefectRecord): DefectSyncStatusV1 {
  if (record.detached_at) return 'detached';
  if (record.error_code && !record.next_attempt_at) return 'failed';
  if (record.push_state === 'failed') return 'failed';
  if (record.push_state === 'queued' || record.dirty.length > 0) return 'pending';
  return 'synced';
}

/** The defect as TestKase core sees it (API answers and events). */
export function toDefectV1(record: DefectRecord): DefectV1 {
  return {
    projectId: record.project_id,
    defectId: record.defect_id,
    connectionId: record.connection_id,
    issue:
      record.iid !== null && record.web_url
        ? {
            platform: 'gitlab',
            instanceUrl: record.instance_url,
            gitlabProjectId: Number(record.gitlab_project_id),
            iid: record.iid,
            issueId: record.issue_id === null ? null : Number(record.issue_id),
            webUrl: record.web_url,
          }
        : null,
    title: record.title,
    priority: record.priority,
    status: record.status,
    syncStatus: syncStatusOf(record),
    error: record.error_code
      ? {
          code: record.error_code,
          message: record.error_message ?? '',
          at: (record.error_at ?? record.updated_at).toISOString(),
          retryAt: record.next_attempt_at?.toISOString() ?? null,
        }
      : null,
    warnings: record.warnings,
    gitlab:
      record.gl_state !== null
        ? {
            state: record.gl_state,
            labels: record.gl_labels ?? [],
            title: record.gl_title ?? '',
            updatedAt: record.gl_updated_at?.toISOString() ?? null,
          }
        : null,
    version: record.version,
    pushedAt: record.pushed_at?.toISOString() ?? null,
    updatedAt: record.updated_at.toISOString(),
  };
}
