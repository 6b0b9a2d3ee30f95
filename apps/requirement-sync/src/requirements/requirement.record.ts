import type {
  DeprecationReason,
  PrioritySource,
  ReplacedTestkaseValuesV1,
  RequirementField,
  RequirementPriority,
  RequirementStatus,
  RequirementV1,
  SyncState,
} from '@testkase/contracts';

/**
 * What the write that produced `version` did besides changing `changed_fields` (column
 * `write_effects`): only that write's events carry it, so a later write that leaves the column
 * alone can never repeat it.
 */
export interface WriteEffects {
  readonly version: number;
  /** The TestKase edits of a re-attached requirement that GitLab's values replaced. */
  readonly replaced?: ReplacedTestkaseValuesV1;
  /** The TestKase priority override a change of the issue's priority labels dropped. */
  readonly droppedPriorityOverride?: RequirementPriority;
}

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
  priority_source: PrioritySource;
  /** The issue's priority labels as of the last write from GitLab (priorityLabelState). */
  priority_labels: string[] | null;
  status: RequirementStatus;
  deprecated_reason: DeprecationReason | null;
  /** A moved issue: the new issue's global id (bigint as string), and its iid and URL when known. */
  moved_to_issue_id?: string | null;
  moved_to_iid?: number | null;
  moved_to_url?: string | null;
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
  /** Fields edited in TestKase while detached, until GitLab's values replace them. */
  testkase_edits: RequirementField[];
  write_effects: WriteEffects | null;
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
    prioritySource: record.priority_source,
    status: record.status,
    ...deprecationOf(record),
    confidential: record.confidential,
    syncState: record.sync_state,
    gitlabCreatedAt: record.gitlab_created_at?.toISOString() ?? null,
    gitlabUpdatedAt: record.gitlab_updated_at.toISOString(),
    version: record.version,
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
  };
}

/** `deprecationReason` and `movedTo` of a Deprecated requirement (docs/ARCHITECTURE.md). */
function deprecationOf(record: RequirementRecord): Pick<RequirementV1, 'deprecationReason' | 'movedTo'> {
  if (record.status !== 'Deprecated' || record.deprecated_reason === null) return {};
  const movedToId = record.moved_to_issue_id ?? null;
  if (record.deprecated_reason !== 'moved' || movedToId === null)
    return { deprecationReason: record.deprecated_reason };
  return {
    deprecationReason: 'moved',
    movedTo: {
      issueId: Number(movedToId),
      iid: record.moved_to_iid ?? null,
      webUrl: record.moved_to_url ?? null,
    },
  };
}
