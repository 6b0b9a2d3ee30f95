import { Inject, Injectable } from '@nestjs/common';

import { gitlabFailureOf, retryDelayMs, TokenRefused } from '@testkase/consumer-kit';
import type { LaneContext } from '@testkase/consumer-kit';
import { snapshotFromRestIssue, type GitlabIssue } from '@testkase/gitlab';
import { LOGGER, Outbox, type Logger } from '@testkase/platform';
import { defectPriorityToLabel, planPriorityLabels, stateEventFor } from '@testkase/sync-rules';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import { pushedEvents, pushFailedEvents } from '../defects/defect-events';
import { DEFECT_FIELDS, type DefectField, type DefectRecord } from '../defects/defect.record';
import { DefectRepository, type DefectColumns } from '../defects/defect.repository';
import { ourIssue } from '../defects/gitlab-merge';
import { markerOf } from '../defects/issue-content';
import { DefectMetrics } from '../metrics/defect.metrics';
import { PriorityLabels } from './priority-labels';

/** An issue may have been created this long before its push attempt began (clock skew between us and GitLab). */
const MARKER_SEARCH_SLACK_MS = 10 * 60_000;

const labelWarning = (label: string, forbidden: boolean) => ({
  code: forbidden ? 'LABEL_CREATION_FORBIDDEN' : 'LABEL_NOT_APPLIED',
  message: forbidden
    ? `GitLab does not let the connection's token create the label "${label}" in this project. Create it (or let the token's user create labels: Planner or higher), and defect-sync applies it at the next sync.`
    : `GitLab did not apply the label "${label}" (the token's user may not set labels in this project). defect-sync applies it at the next sync once it can.`,
});

/**
 * Creates the GitLab issue of one queued defect — exactly once, whatever happens:
 *
 * 1. its priority label is created first if the project lacks it (409: it exists; 403: forbidden,
 *    the issue is created without it and the label follows when it can);
 * 2. before the POST the attempt is recorded as "outcome unknown", so that when GitLab's answer is
 *    lost (a timeout, a 5xx after the write, a crash before our commit) the next attempt first looks
 *    for the issue by its marker — authored by the token's user, created since the push began — and
 *    adopts it instead of creating another;
 * 3. the issue is closed at once when the defect already is Closed or Achieved (GitLab creates
 *    issues open);
 * 4. the link, GitLab's state and the events commit together through the lane's lease.
 */
@Injectable()
export class IssuePusher {
  constructor(
    private readonly defects: DefectRepository,
    private readonly labels: PriorityLabels,
    private readonly outbox: Outbox,
    private readonly metrics: DefectMetrics,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async push(lane: LaneContext, record: DefectRecord): Promise<void> {
    const { gitlab, project } = lane;
    const label = defectPriorityToLabel(record.priority);
    try {
      let created = true;
      let issue = record.push_outcome_unknown ? await this.findByMarker(lane, record) : null;
      let labelState = await this.labels.ensure(gitlab, project.gitlabProjectId, label);
      if (issue) {
        created = false;
      } else {
        const started = await lane.lease.transaction((tx) =>
          this.defects.update(
            tx,
            record.id,
            {
              push_attempts: record.push_attempts + 1,
              push_started_at: record.push_started_at ?? new Date(),
              push_outcome_unknown: true,
            },
            { where: "push_state = 'queued' AND detached_at IS NULL" },
          ),
        );
        if (!started) return; // disconnected, or pushed meanwhile
        const ours = ourIssue(started);
        issue = await gitlab.issues.create(project.gitlabProjectId, {
          title: ours.title,
          description: ours.description,
          // Sent even when we may not create it: GitLab applies an existing one and skips a missing one.
          labels: [label],
        });
        this.metrics.gitlabWrites.inc({ kind: 'issue_create' });
        record = started;
      }
      const stateEvent = stateEventFor(record.status, issue.state);
      let closeFailed = false;
      if (stateEvent) {
        try {
          issue = await gitlab.issues.update(project.gitlabProjectId, issue.iid, { state_event: stateEvent });
          this.metrics.gitlabWrites.inc({ kind: 'issue_update' });
        } catch (error) {
          if (gitlabFailureOf(error).kind === 'auth') throw error;
          closeFailed = true; // the lane writes it again
        }
      }
      if (!issue.labels.includes(label) && labelState === 'exists') labelState = 'unknown';
      await this.commitCreated(lane, record, issue, { created, label, labelState, closeFailed });
      this.metrics.pushes.inc({ outcome: created ? 'created' : 'found_by_marker' });
      this.metrics.pushSeconds.observe((Date.now() - record.created_at.getTime()) / 1000);
    } catch (error) {
      await this.failed(lane, record, error);
    }
  }

  /**
   * The issue an earlier attempt created: the marker's defect id, authored by the token's user,
   * created since the push began. GitLab's search matches words, so the candidates are checked for
   * the exact marker; a copy made by someone else (a `/clone`, a pasted description) is never ours.
   */
  private async findByMarker(lane: LaneContext, record: DefectRecord): Promise<GitlabIssue | null> {
    const since = new Date((record.push_started_at ?? record.created_at).getTime() - MARKER_SEARCH_SLACK_MS);
    const ours = (issue: GitlabIssue) =>
      issue.author?.id === lane.tokenUserId &&
      markerOf(issue.description ?? '') === record.defect_id &&
      Date.parse(issue.created_at) >= since.getTime();
    const query = {
      author_id: lane.tokenUserId,
      created_after: since.toISOString(),
      order_by: 'created_at' as const,
      sort: 'asc' as const,
      per_page: 100,
    };
    for (const search of [{ search: record.defect_id, in: 'description' as const }, {}]) {
      for await (const page of lane.gitlab.issues.pages(lane.project.gitlabProjectId, {
        ...query,
        ...search,
      })) {
        const found = page.items.find(ours);
        if (found) {
          this.logger.info(
            { connectionId: lane.project.connectionId, defectId: record.defect_id, iid: found.iid },
            'found the issue an earlier push attempt had created',
          );
          return found;
        }
      }
    }
    return null;
  }

  private async commitCreated(
    lane: LaneContext,
    used: DefectRecord,
    issue: GitlabIssue,
    outcome: {
      created: boolean;
      label: string;
      labelState: 'exists' | 'forbidden' | 'unknown';
      closeFailed: boolean;
    },
  ): Promise<void> {
    const snapshot = snapshotFromRestIssue(issue);
    await lane.lease.transaction(async (tx) => {
      const current = await this.defects.findById(tx, used.id, true);
      if (!current || current.push_state !== 'queued') return;
      // TestKase may have changed the defect while the issue was being created: those fields follow.
      const dirty = new Set<DefectField>(
        DEFECT_FIELDS.filter((field) => JSON.stringify(current[field]) !== JSON.stringify(used[field])),
      );
      if (outcome.closeFailed) dirty.add('status');
      // The issue's labels are GitLab's: a label of an older priority (the defect changed between
      // the lane's read and the creation, or an earlier attempt created the issue) is written again.
      const relabel = planPriorityLabels(issue.labels, current.priority);
      if (relabel.remove.length > 0 || (relabel.add.length > 0 && outcome.labelState !== 'forbidden'))
        dirty.add('priority');
      const labelMissing = !issue.labels.includes(outcome.label);
      const warnings = labelMissing ? [labelWarning(outcome.label, outcome.labelState === 'forbidden')] : [];
      const columns: DefectColumns = {
        iid: issue.iid,
        issue_id: String(issue.id),
        web_url: issue.web_url,
        push_state: 'created',
        push_outcome_unknown: false,
        pushed_at: new Date(),
        gl_title: issue.title,
        gl_description: issue.description ?? '',
        gl_state: issue.state,
        gl_labels: [...issue.labels],
        gl_updated_at: snapshot?.updatedAt ?? new Date(issue.updated_at),
        gl_updated_at_exact: snapshot?.updatedAtExact ?? true,
        pending_label: labelMissing ? outcome.label : null,
        warnings,
        dirty: [...dirty],
        error_code: null,
        error_message: null,
        error_at: null,
        failures: 0,
        next_attempt_at: dirty.size > 0 ? new Date() : null,
      };
      const written = await this.defects.update(tx, used.id, columns, { bump: true });
      if (written) await this.outbox.addMany(tx, pushedEvents(written, outcome.created));
    });
  }

  private async failed(lane: LaneContext, record: DefectRecord, error: unknown): Promise<void> {
    const failure = gitlabFailureOf(error);
    this.metrics.writeFailures.inc({ code: failure.code });
    const failures = record.failures + 1;
    const base: DefectColumns = {
      error_code: failure.code,
      error_message: failure.message,
      error_at: new Date(),
      failures,
    };
    await lane.lease.transaction(async (tx) => {
      switch (failure.kind) {
        case 'permanent': {
          const written = await this.defects.update(
            tx,
            record.id,
            { ...base, push_state: 'failed', push_outcome_unknown: false, next_attempt_at: null },
            { bump: true, where: "push_state = 'queued'" },
          );
          if (written) await this.outbox.addMany(tx, pushFailedEvents(written, true));
          return;
        }
        case 'auth':
          // Retried when connection-service reports a new token (the lifecycle requeues it).
          await this.defects.update(
            tx,
            record.id,
            { ...base, next_attempt_at: null },
            { where: "push_state = 'queued'" },
          );
          return;
        case 'transient':
          await this.defects.update(
            tx,
            record.id,
            {
              ...base,
              next_attempt_at: new Date(
                Date.now() + retryDelayMs(failures, this.config.RETRY_MAX_INTERVAL, failure.retryAfterMs),
              ),
            },
            { where: "push_state = 'queued'" },
          );
          return;
      }
    });
    this.metrics.pushes.inc({
      outcome:
        failure.kind === 'permanent' ? 'failed' : failure.kind === 'auth' ? 'waiting_for_token' : 'retry',
    });
    this.logger.warn(
      {
        connectionId: lane.project.connectionId,
        defectId: record.defect_id,
        code: failure.code,
        kind: failure.kind,
      },
      'push failed',
    );
    if (failure.kind === 'auth') throw new TokenRefused(failure, error);
  }
}
