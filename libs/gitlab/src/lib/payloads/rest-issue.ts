import { parseGitlabTimestamp } from '@testkase/sync-rules';

import type { GitlabIssue } from '../gitlab-rest.types';
import {
  MAX_DESCRIPTION_CHARS,
  MAX_LABEL_CHARS,
  MAX_LABELS,
  MAX_LABELS_TOTAL_CHARS,
  MAX_TITLE_CHARS,
} from './issue-hook.parser';
import { hasSubSecondPrecision, type IssueSnapshot } from './issue-snapshot';

/** As the issue hook's `object_attributes.url`. */
const MAX_WEB_URL_CHARS = 2_048;

/**
 * A REST issue as a snapshot, or null for a record that is not a usable issue (another work item
 * type, fields of the wrong type from a broken instance, or fields beyond the bounds the issue hook
 * parser enforces — title, description, labels, URL — which no GitLab sends and which would make
 * its events too large to publish): the caller skips it.
 */
export function snapshotFromRestIssue(issue: GitlabIssue): IssueSnapshot | null {
  const raw = issue as unknown as Record<string, unknown>;
  const issueType = raw['issue_type'];
  if (typeof issueType === 'string' && issueType !== 'issue') return null;
  if (typeof issue.iid !== 'number' || !Number.isSafeInteger(issue.iid) || issue.iid < 1) return null;
  if (typeof issue.title !== 'string' || issue.title.length > MAX_TITLE_CHARS) return null;
  if (typeof issue.description === 'string' && issue.description.length > MAX_DESCRIPTION_CHARS) return null;
  if (typeof issue.web_url === 'string' && issue.web_url.length > MAX_WEB_URL_CHARS) return null;
  if (issue.state !== 'opened' && issue.state !== 'closed') return null;
  if (typeof issue.updated_at !== 'string') return null;
  const updatedAt = parseGitlabTimestamp(issue.updated_at);
  if (!updatedAt) return null;
  const labels = Array.isArray(issue.labels)
    ? issue.labels.flatMap((label: unknown) => {
        if (typeof label === 'string') return [label];
        // `with_labels_details=true` returns objects.
        const name = (label as { name?: unknown } | null)?.name;
        return typeof name === 'string' ? [name] : [];
      })
    : [];
  if (labels.length > MAX_LABELS || labels.some((label) => label.length > MAX_LABEL_CHARS)) return null;
  if (labels.reduce((sum, label) => sum + label.length, 0) > MAX_LABELS_TOTAL_CHARS) return null;
  return {
    iid: issue.iid,
    issueId: typeof issue.id === 'number' ? issue.id : null,
    title: issue.title,
    description: typeof issue.description === 'string' ? issue.description : '',
    state: issue.state,
    labels,
    confidential: issue.confidential === true,
    webUrl: typeof issue.web_url === 'string' ? issue.web_url : null,
    createdAt: parseGitlabTimestamp(issue.created_at),
    updatedAt,
    updatedAtExact: hasSubSecondPrecision(issue.updated_at),
    source: 'rest',
    ...movedTo(issue.moved_to_id),
  };
}

/** `{ movedToId }` when GitLab gives the id of the issue this one was moved to, else nothing. */
export const movedTo = (value: unknown): { movedToId?: number } =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? { movedToId: value } : {};

/**
 * A REST issue of another work item type (`issue_type` incident, task, test_case): it was an issue
 * and was retyped, or never was one. Null when the record says nothing usable.
 */
export function restIssueOfOtherType(issue: GitlabIssue): { iid: number; issueType: string } | null {
  const issueType = (issue as unknown as Record<string, unknown>)['issue_type'];
  if (typeof issueType !== 'string' || issueType === 'issue') return null;
  if (typeof issue.iid !== 'number' || !Number.isSafeInteger(issue.iid) || issue.iid < 1) return null;
  return { iid: issue.iid, issueType };
}
