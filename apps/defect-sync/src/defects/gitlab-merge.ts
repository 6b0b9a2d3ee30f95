import type { IssueSnapshot } from '@testkase/gitlab';
import {
  defectPriorityToLabel,
  defectStatusToIssueState,
  highestPriorityLabelValue,
  issueStateToDefectStatus,
  labelsToDefectPriority,
  parsePriorityLabel,
  type DefectPriority,
  type DefectStatus,
} from '@testkase/sync-rules';

import type { DefectField, DefectRecord } from './defect.record';
import {
  hasOurBlock,
  issueDescription,
  issueTitle,
  sameDescription,
  userDescriptionOf,
} from './issue-content';

/** What a GitLab change means for TestKase: one entry per field TestKase must hear about. */
export interface TestkaseChanges {
  title?: { previous: string; current: string };
  description?: { previous: string; current: string };
  status?: { previous: DefectStatus; current: DefectStatus };
  priority?: { previous: DefectPriority; current: DefectPriority };
}

/** The columns a merge sets. */
export type MergedColumns = Pick<
  DefectRecord,
  | 'title'
  | 'description'
  | 'status'
  | 'priority'
  | 'dirty'
  | 'gl_title'
  | 'gl_description'
  | 'gl_state'
  | 'gl_labels'
  | 'gl_updated_at'
  | 'gl_updated_at_exact'
  | 'pending_label'
  | 'warnings'
>;

export type MergeResult =
  /** Not newer than what defect-sync saw last: nothing to do. */
  | { readonly kind: 'stale' }
  /** As new as what we saw, to the second, but different: only GitLab's REST API can order them. */
  | { readonly kind: 'ask_gitlab' }
  | {
      readonly kind: 'merged';
      readonly columns: MergedColumns;
      readonly changes: TestkaseChanges;
      /** Someone removed defect-sync's block (backlink, marker) from the description: write it again. */
      readonly restoreBlock: boolean;
    };

const secondOf = (date: Date): number => Math.floor(date.getTime() / 1000) * 1000;

/** The issue as GitLab would show it after defect-sync wrote the defect's current values. */
export function ourIssue(record: DefectRecord): {
  title: string;
  description: string;
  state: 'opened' | 'closed';
  priorityLabel: string;
} {
  return {
    title: issueTitle(record.title),
    description: issueDescription({
      defectId: record.defect_id,
      title: record.title,
      description: record.description,
      url: record.url,
      context: record.context,
    }),
    state: defectStatusToIssueState(record.status),
    priorityLabel: defectPriorityToLabel(record.priority),
  };
}

const samePriority = (labels: readonly string[], priority: DefectPriority): boolean =>
  highestPriorityLabelValue(labels) === parsePriorityLabel(defectPriorityToLabel(priority));

/**
 * Applies what GitLab shows of a pushed issue to its defect, by the sync rules (docs/ARCHITECTURE.md,
 * "Bidirectional defect sync"; the defect-sync README, "Conflicts"):
 *
 * - **Forward only**: a snapshot no newer than the last one seen changes nothing; one from the same
 *   second that differs is ordered by asking GitLab (webhook times are second-precise).
 * - **Echoes are not changes**: a field that shows what defect-sync wrote (or is writing) is simply
 *   recorded; TestKase hears only of values someone else set.
 * - **Later edit wins, per field**: when TestKase changed a field that GitLab has not shown yet, a
 *   GitLab edit of that field made after TestKase's (GitLab's updated_at against the time defect-sync
 *   accepted the TestKase edit) wins and is reported; an earlier one loses and is overwritten.
 * - Status follows the table (closed → Closed unless Closed or Achieved; opened → Open unless Open or
 *   In-Progress); priority follows the most urgent `priority::*` label (`low` keeps Trivial); no
 *   priority label keeps the defect's priority.
 */
export function mergeGitlabSnapshot(record: DefectRecord, snapshot: IssueSnapshot): MergeResult {
  const seenAt = record.gl_updated_at;
  if (seenAt) {
    const newer = snapshot.updatedAtExact
      ? snapshot.updatedAt.getTime() > seenAt.getTime()
      : snapshot.updatedAt.getTime() > secondOf(seenAt);
    if (!newer) {
      const sameSecond = !snapshot.updatedAtExact && snapshot.updatedAt.getTime() === secondOf(seenAt);
      const differs =
        snapshot.title !== record.gl_title ||
        !sameDescription(snapshot.description, record.gl_description ?? '') ||
        snapshot.state !== record.gl_state ||
        highestPriorityLabelValue(snapshot.labels) !== highestPriorityLabelValue(record.gl_labels ?? []);
      return sameSecond && differs ? { kind: 'ask_gitlab' } : { kind: 'stale' };
    }
  }

  const ours = ourIssue(record);
  const dirty = new Set<DefectField>(record.dirty);
  const changes: TestkaseChanges = {};
  const next = {
    title: record.title,
    description: record.description,
    status: record.status,
    priority: record.priority,
  };
  /** GitLab's edit of a field TestKase also changed: true when GitLab's is the later one. */
  const gitlabWins = (field: DefectField): boolean => {
    const at = record.field_times[field];
    return at === undefined || snapshot.updatedAt.getTime() > Date.parse(at);
  };
  /** Resolves one field that GitLab changed; `echo` says GitLab shows our own value. */
  const resolve = (field: DefectField, echo: boolean, apply: () => void): void => {
    if (dirty.has(field)) {
      if (echo) dirty.delete(field);
      else if (gitlabWins(field)) {
        dirty.delete(field);
        apply();
      }
      return;
    }
    if (!echo) apply();
  };

  if (record.gl_title !== null && snapshot.title !== record.gl_title) {
    resolve('title', snapshot.title === ours.title, () => {
      if (snapshot.title !== issueTitle(next.title)) next.title = snapshot.title;
    });
  }
  if (record.gl_description !== null && !sameDescription(snapshot.description, record.gl_description)) {
    resolve('description', sameDescription(snapshot.description, ours.description), () => {
      next.description = userDescriptionOf(snapshot.description);
    });
  }
  if (record.gl_state !== null && snapshot.state !== record.gl_state) {
    resolve('status', snapshot.state === ours.state, () => {
      next.status = issueStateToDefectStatus(snapshot.state, next.status);
    });
  }
  const glPriorityChanged =
    record.gl_labels !== null &&
    highestPriorityLabelValue(snapshot.labels) !== highestPriorityLabelValue(record.gl_labels);
  if (glPriorityChanged) {
    resolve('priority', samePriority(snapshot.labels, record.priority), () => {
      next.priority = labelsToDefectPriority(snapshot.labels, next.priority);
    });
  }

  if (next.title !== record.title) changes.title = { previous: record.title, current: next.title };
  if (next.description !== record.description)
    changes.description = { previous: record.description, current: next.description };
  if (next.status !== record.status) changes.status = { previous: record.status, current: next.status };
  if (next.priority !== record.priority)
    changes.priority = { previous: record.priority, current: next.priority };

  let pendingLabel = record.pending_label;
  let warnings = record.warnings;
  if (pendingLabel !== null && snapshot.labels.includes(pendingLabel)) {
    pendingLabel = null;
    warnings = warnings.filter((warning) => !warning.code.startsWith('LABEL_'));
  }
  if (pendingLabel !== null && !samePriority([pendingLabel], next.priority)) pendingLabel = null;

  return {
    kind: 'merged',
    columns: {
      ...next,
      dirty: [...dirty],
      gl_title: snapshot.title,
      gl_description: snapshot.description,
      gl_state: snapshot.state,
      gl_labels: [...snapshot.labels],
      gl_updated_at: snapshot.updatedAt,
      gl_updated_at_exact: snapshot.updatedAtExact,
      pending_label: pendingLabel,
      warnings,
    },
    changes,
    restoreBlock: !dirty.has('description') && !hasOurBlock(snapshot.description, record.defect_id),
  };
}
