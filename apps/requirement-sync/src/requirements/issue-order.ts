import type { RequirementUpsertRow } from './requirement-mapping';
import type { RequirementRecord } from './requirement.record';

/**
 * Which of two states of an issue is newer, where GitLab's timestamps cannot say (docs/GITLAB.md,
 * "Issue and work item events", "Timestamps"; apps/requirement-sync/README.md, "The rules").
 */

/** The fields an issue event may change, compared as stored and as mapped. */
export type IssueContent = Pick<
  RequirementRecord,
  'title' | 'description_markdown' | 'status' | 'confidential' | 'labels'
> & { readonly moved_to_issue_id?: string | number | null };

export function sameContent(stored: IssueContent, row: RequirementUpsertRow): boolean {
  return (
    stored.title === row.title &&
    stored.description_markdown === row.description_markdown &&
    stored.status === row.status &&
    stored.confidential === row.confidential &&
    stored.labels.length === row.labels.length &&
    stored.labels.every((label, index) => label === row.labels[index]) &&
    Number(stored.moved_to_issue_id ?? 0) === Number(row.moved_to_issue_id ?? 0)
  );
}

/**
 * GitLab's `updated_at` lies beyond our clock plus the tolerated skew: a GitLab clock that jumped,
 * or a crafted delivery. Such a time is not trusted to order changes.
 */
export const isFromTheFuture = (updatedAt: Date, skewMs: number, now = Date.now()): boolean =>
  updatedAt.getTime() > now + skewMs;

const wholeSecond = (date: Date): number => Math.floor(date.getTime() / 1000) * 1000;

/**
 * A REST snapshot from a listing (read some time before it is written) and a stored state from a
 * second-precise webhook of the same second, with different content: the millisecond time of the
 * snapshot looks newer than the webhook's whole second, but the webhook may carry a later change of
 * that second. Only a fresh read of the issue can tell.
 */
export function sameSecondConflict(
  stored: IssueContent & Pick<RequirementRecord, 'gitlab_updated_at' | 'gitlab_updated_at_exact'>,
  row: RequirementUpsertRow,
): boolean {
  return (
    row.source === 'rest' &&
    row.exact &&
    !stored.gitlab_updated_at_exact &&
    wholeSecond(new Date(row.gitlab_updated_at)) === stored.gitlab_updated_at.getTime() &&
    !sameContent(stored, row)
  );
}
