import type {
  RequirementField,
  RequirementPriority,
  RequirementStatus,
  RequirementV1,
  SyncState,
} from '@testkase/contracts';

/** A row of requirement_sync.requirements as the pg driver returns it (bigint as string). */
export interface RequirementRecord {
  id: string;
  project_id: string;
  connection_id: string | null;
  instance_url: string;
  gitlab_project_id: string;
  iid: number;
  issue_id: string | null;
  title: string;
  description_markdown: string;
  description_html: string;
  labels: string[];
  priority: RequirementPriority;
  status: RequirementStatus;
  deprecated_reason: 'closed' | 'deleted_or_moved' | null;
  confidential: boolean;
  web_url: string;
  gitlab_created_at: Date | null;
  gitlab_updated_at: Date;
  gitlab_updated_at_exact: boolean;
  sync_state: SyncState;
  source: 'rest' | 'webhook' | 'testkase';
  needs_refresh: boolean;
  version: number;
  changed_fields: RequirementField[];
  created_at: Date;
  updated_at: Date;
}

/** The contract shape (API answers and events). */
export function toRequirementV1(record: RequirementRecord): RequirementV1 {
  return {
    id: record.id,
    projectId: record.project_id,
    connectionId: record.connection_id,
    external: {
      platform: 'gitlab',
      instanceUrl: record.instance_url,
      gitlabProjectId: Number(record.gitlab_project_id),
      iid: record.iid,
      issueId: record.issue_id === null ? null : Number(record.issue_id),
      webUrl: record.web_url,
    },
    title: record.title,
    descriptionHtml: record.description_html,
    descriptionMarkdown: record.description_markdown,
    labels: record.labels,
    priority: record.priority,
    status: record.status,
    confidential: record.confidential,
    syncState: record.sync_state,
    gitlabCreatedAt: record.gitlab_created_at?.toISOString() ?? null,
    gitlabUpdatedAt: record.gitlab_updated_at.toISOString(),
    version: record.version,
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
  };
}
