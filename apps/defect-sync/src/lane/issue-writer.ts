import { Inject, Injectable } from '@nestjs/common';

import { gitlabFailureOf, retryDelayMs, TokenRefused } from '@testkase/consumer-kit';
import type { LaneContext } from '@testkase/consumer-kit';
import { snapshotFromRestIssue, type GitlabIssue, type UpdateIssueInput } from '@testkase/gitlab';
import { LOGGER, type Logger } from '@testkase/platform';
import {
  defectPriorityToLabel,
  highestPriorityLabelValue,
  planPriorityLabels,
  stateEventFor,
} from '@testkase/sync-rules';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectField, DefectRecord } from '../defects/defect.record';
import { DefectRepository, type DefectColumns } from '../defects/defect.repository';
import { ourIssue } from '../defects/gitlab-merge';
import { sameDescription } from '../defects/issue-content';
import { DefectMetrics } from '../metrics/defect.metrics';
import { GitlabChangeApplier } from '../webhooks/gitlab-change.applier';
import { PriorityLabels } from './priority-labels';

/**
 * Brings a pushed issue in line with its defect: the fields TestKase changed (title, description
 * with defect-sync's block, close/reopen by the status table, the priority label — the old
 * `priority::*` removed, since scoped labels are not exclusive on GitLab Free), and a priority label
 * that could not be applied before. One PUT; what GitLab answers becomes the last state seen, so the
 * webhook our write causes is recognised as an echo.
 */
@Injectable()
export class IssueWriter {
  constructor(
    private readonly defects: DefectRepository,
    private readonly labels: PriorityLabels,
    private readonly metrics: DefectMetrics,
    private readonly applier: GitlabChangeApplier,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async write(lane: LaneContext, record: DefectRecord): Promise<void> {
    if (record.iid === null) return;
    try {
      const { input, written, pendingLabel } = await this.plan(lane, record);
      let issue: GitlabIssue | null = null;
      if (Object.keys(input).length > 0) {
        issue = await lane.gitlab.issues.update(lane.project.gitlabProjectId, record.iid, input);
        this.metrics.gitlabWrites.inc({ kind: 'issue_update' });
      }
      await this.commit(lane, record, issue, written, pendingLabel);
    } catch (error) {
      await this.failed(lane, record, error);
    }
  }

  private async plan(
    lane: LaneContext,
    record: DefectRecord,
  ): Promise<{ input: UpdateIssueInput; written: Set<DefectField>; pendingLabel: string | null }> {
    const ours = ourIssue(record);
    const dirty = new Set(record.dirty);
    const written = new Set<DefectField>();
    const input: { -readonly [K in keyof UpdateIssueInput]: UpdateIssueInput[K] } = {};
    if (dirty.has('title') && ours.title !== record.gl_title) input.title = ours.title;
    if (dirty.has('title')) written.add('title');
    // A long title heads the description, so a title change can change the description too.
    if (
      (dirty.has('description') || dirty.has('title')) &&
      !sameDescription(ours.description, record.gl_description ?? '')
    ) {
      input.description = ours.description;
    }
    if (dirty.has('description')) written.add('description');
    if (dirty.has('status')) {
      const event = record.gl_state ? stateEventFor(record.status, record.gl_state) : null;
      if (event) input.state_event = event;
      written.add('status');
    }
    let pendingLabel = record.pending_label;
    if (dirty.has('priority') || record.pending_label !== null) {
      const label = defectPriorityToLabel(record.priority);
      const plan = planPriorityLabels(record.gl_labels ?? [], record.priority);
      const state =
        plan.add.length > 0
          ? await this.labels.ensure(lane.gitlab, lane.project.gitlabProjectId, label)
          : 'exists';
      if (plan.add.length > 0) input.add_labels = plan.add;
      if (plan.remove.length > 0) input.remove_labels = plan.remove;
      pendingLabel = plan.add.length > 0 && state === 'forbidden' ? label : null;
      written.add('priority');
    }
    return { input, written, pendingLabel };
  }

  private async commit(
    lane: LaneContext,
    used: DefectRecord,
    issue: GitlabIssue | null,
    written: ReadonlySet<DefectField>,
    plannedPendingLabel: string | null,
  ): Promise<void> {
    const snapshot = issue ? snapshotFromRestIssue(issue) : null;
    await lane.lease.transaction(async (tx) => {
      const current = await this.defects.findById(tx, used.id, true);
      if (!current || current.detached_at) return;
      // A field that changed while we wrote — TestKase changed it again, or a later GitLab edit won and
      // our write has just overwritten it — is written again with its current value; so is one we
      // could not write.
      const changedMeanwhile = [...written].filter(
        (field) => JSON.stringify(current[field]) !== JSON.stringify(used[field]),
      );
      const dirty = [
        ...new Set([...current.dirty.filter((field) => !written.has(field)), ...changedMeanwhile]),
      ];
      // We removed the `priority::*` labels we had seen; one added on GitLab since, whose webhook has
      // not come (or was lost), is still there next to ours, and GitLab Free keeps both. GitLab's
      // answer shows it: write the priority again from that answer, which removes it.
      if (
        issue &&
        written.has('priority') &&
        !dirty.includes('priority') &&
        planPriorityLabels(issue.labels, current.priority).remove.length > 0
      ) {
        dirty.push('priority');
      }
      const columns: DefectColumns = {
        dirty,
        error_code: null,
        error_message: null,
        error_at: null,
        failures: 0,
      };
      // GitLab's answer is the last state seen, unless a webhook already showed a later one.
      if (issue && snapshot && (!current.gl_updated_at || snapshot.updatedAt >= current.gl_updated_at)) {
        Object.assign(columns, {
          gl_title: issue.title,
          gl_description: issue.description ?? '',
          gl_state: issue.state,
          gl_labels: [...issue.labels],
          gl_updated_at: snapshot.updatedAt,
          gl_updated_at_exact: snapshot.updatedAtExact,
        });
      }
      const labels = issue ? issue.labels : (current.gl_labels ?? []);
      const wanted = defectPriorityToLabel(current.priority);
      const stillMissing = plannedPendingLabel !== null && !labels.includes(wanted) ? wanted : null;
      columns.pending_label = stillMissing;
      columns.warnings = stillMissing
        ? current.warnings
        : current.warnings.filter((w) => !w.code.startsWith('LABEL_'));
      columns.next_attempt_at = dirty.length > 0 ? new Date() : null;
      await this.defects.update(tx, used.id, columns, {
        bump: written.size > 0 || stillMissing !== current.pending_label,
      });
      // GitLab's answer also shows what someone changed on GitLab since we last saw the issue, whose
      // webhook has not come or was lost: taken as seen, those changes would never reach the defect
      // (its webhook would then be stale, and a sweep would find nothing new). A field we did not
      // write that differs from what we had seen is put back to what we had seen, and the answer is
      // applied as GitLab's change, as its webhook would have been (events included).
      if (issue && snapshot && columns.gl_updated_at === snapshot.updatedAt) {
        const unseen = unseenChanges(used, issue, written);
        if (Object.keys(unseen).length > 0) {
          await this.defects.update(
            tx,
            used.id,
            { ...unseen, gl_updated_at: used.gl_updated_at },
            { bump: false },
          );
          await this.applier.apply(lane.project.connectionId, snapshot, {}, tx);
        }
      }
    });
  }

  private async failed(lane: LaneContext, record: DefectRecord, error: unknown): Promise<void> {
    const failure = gitlabFailureOf(error);
    this.metrics.writeFailures.inc({ code: failure.code });
    const failures = record.failures + 1;
    let nextAttemptAt: Date | null;
    switch (failure.kind) {
      case 'auth':
        nextAttemptAt = null; // requeued when the token is replaced
        break;
      case 'permanent':
        // GitLab refuses the write (the issue was deleted, the title is invalid, …): reconciliation tries again.
        nextAttemptAt =
          failure.code === 'GITLAB_NOT_FOUND' ? null : new Date(Date.now() + this.config.RECONCILE_INTERVAL);
        break;
      case 'transient':
        nextAttemptAt = new Date(
          Date.now() + retryDelayMs(failures, this.config.RETRY_MAX_INTERVAL, failure.retryAfterMs),
        );
        break;
    }
    const message =
      failure.code === 'GITLAB_NOT_FOUND'
        ? 'The GitLab issue is gone (deleted, or moved to another project)'
        : failure.message;
    await lane.lease.transaction((tx) =>
      this.defects.update(
        tx,
        record.id,
        {
          error_code: failure.code,
          error_message: message,
          error_at: new Date(),
          failures,
          next_attempt_at: nextAttemptAt,
        },
        { bump: true },
      ),
    );
    this.logger.warn(
      {
        connectionId: lane.project.connectionId,
        defectId: record.defect_id,
        code: failure.code,
        kind: failure.kind,
      },
      'GitLab write failed',
    );
    if (failure.kind === 'auth') throw new TokenRefused(failure, error);
  }
}

/**
 * The last-seen columns of the fields GitLab's answer shows changed although we did not write them
 * (compared with what we had seen when we planned the write): their values as we had seen them.
 */
function unseenChanges(
  used: DefectRecord,
  issue: GitlabIssue,
  written: ReadonlySet<DefectField>,
): DefectColumns {
  const unseen: DefectColumns = {};
  if (!written.has('title') && used.gl_title !== null && issue.title !== used.gl_title)
    unseen.gl_title = used.gl_title;
  if (
    !written.has('title') &&
    !written.has('description') &&
    used.gl_description !== null &&
    !sameDescription(issue.description ?? '', used.gl_description)
  )
    unseen.gl_description = used.gl_description;
  if (!written.has('status') && used.gl_state !== null && issue.state !== used.gl_state)
    unseen.gl_state = used.gl_state;
  if (
    !written.has('priority') &&
    used.gl_labels !== null &&
    highestPriorityLabelValue(issue.labels) !== highestPriorityLabelValue(used.gl_labels)
  )
    unseen.gl_labels = used.gl_labels;
  return unseen;
}
