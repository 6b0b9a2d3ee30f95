import { normaliseInstanceUrl, type ProjectContext } from '@testkase/consumer-kit';
import type { IssueSnapshot } from '@testkase/gitlab';
import {
  findDefectMarker,
  issueStateToRequirementStatus,
  labelsToPriority,
  parseIssueWebUrl,
  priorityLabelState,
  type Priority,
  type RequirementStatus,
} from '@testkase/sync-rules';

import { descriptionHtml } from './description-html';

export { normaliseInstanceUrl, type ProjectContext };

/** One issue mapped to requirement columns (the JSON row a batched upsert takes). */
export interface RequirementUpsertRow {
  readonly iid: number;
  readonly issue_id: number | null;
  readonly title: string;
  readonly description_markdown: string;
  readonly description_html: string;
  readonly labels: readonly string[];
  readonly priority: Priority;
  /** What a TestKase priority override is compared with (sync-rules' priorityLabelState). */
  readonly priority_labels: readonly string[];
  readonly status: RequirementStatus;
  readonly confidential: boolean;
  readonly web_url: string;
  readonly gitlab_created_at: string | null;
  readonly gitlab_updated_at: string;
  readonly exact: boolean;
  readonly source: 'rest' | 'webhook';
  /** The defect id of a `<!-- testkase:defect:<id> -->` marker in the description. */
  readonly defect_id: string | null;
  /** A moved issue: GitLab's `moved_to_id`, and the new issue's iid and URL when known. */
  readonly moved_to_issue_id?: number | null;
  readonly moved_to_iid?: number | null;
  readonly moved_to_url?: string | null;
}

const sameProjectUrl = (left: string, right: string): boolean =>
  normaliseInstanceUrl(left).toLowerCase() === normaliseInstanceUrl(right).toLowerCase();

/**
 * The issue link kept on the requirement: GitLab's own URL when it points at this project and iid
 * (`/-/issues/<iid>`, or `/issues/<iid>` on old instances; a work item URL becomes the issue URL),
 * otherwise one built from the project's web URL, so a payload can never plant a foreign link.
 */
export function issueWebUrl(url: string | null, projectWebUrl: string, iid: number): string {
  const base = normaliseInstanceUrl(projectWebUrl);
  const parsed = url === null ? null : parseIssueWebUrl(url);
  if (url !== null && parsed && parsed.iid === iid && sameProjectUrl(parsed.projectWebUrl, base)) {
    // Before GitLab 12 routes had no `/-/` scope; such an instance serves only `/issues/<iid>`.
    const legacy = !new URL(url).pathname.includes('/-/');
    return `${base}${legacy ? '/issues' : '/-/issues'}/${iid}`;
  }
  return `${base}/-/issues/${iid}`;
}

/** Label titles as a set: sorted and without duplicates, so REST and webhook order never differ. */
export const normaliseLabels = (labels: readonly string[]): string[] =>
  [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The mapping of ARCHITECTURE.md ("Requirements"), through libs/sync-rules. */
export function toUpsertRow(snapshot: IssueSnapshot, context: ProjectContext): RequirementUpsertRow {
  const labels = normaliseLabels(snapshot.labels);
  return {
    iid: snapshot.iid,
    issue_id: snapshot.issueId,
    title: snapshot.title,
    description_markdown: snapshot.description,
    description_html: descriptionHtml(snapshot.description, context.projectWebUrl),
    labels,
    priority: labelsToPriority(labels),
    priority_labels: priorityLabelState(labels),
    status: issueStateToRequirementStatus(snapshot.state),
    confidential: snapshot.confidential,
    web_url: issueWebUrl(snapshot.webUrl, context.projectWebUrl, snapshot.iid),
    gitlab_created_at: snapshot.createdAt?.toISOString() ?? null,
    gitlab_updated_at: snapshot.updatedAt.toISOString(),
    exact: snapshot.updatedAtExact,
    source: snapshot.source,
    defect_id: findDefectMarker(snapshot.description),
    ...(snapshot.movedToId === undefined ? {} : { moved_to_issue_id: snapshot.movedToId }),
  };
}
