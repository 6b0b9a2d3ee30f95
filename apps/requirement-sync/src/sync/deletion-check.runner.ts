import { Inject, Injectable } from '@nestjs/common';

import { GitlabAccess, isAuthFailure, type JobLease } from '@testkase/consumer-kit';
import type { GitlabClient } from '@testkase/gitlab';
import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import type { ConnectionRecord } from '../connections/connection.record';
import { ConnectionRepository } from '../connections/connection.repository';
import { SyncMetrics } from '../metrics/sync.metrics';
import type { ChangeCounts } from '../requirements/requirement-events';
import { RequirementRepository } from '../requirements/requirement.repository';
import { IssuePageWriter } from './issue-page.writer';
import { SweepRunner } from './sweep.runner';

/** GitLab's `per_page` maximum, and as many iids as one request names. */
const BATCH = 100;

/**
 * The deletion check (every DELETION_CHECK_INTERVAL per connection): GitLab sends no event when an
 * issue is deleted, so the requirements whose issue may still exist are checked 100 iids at a time
 * with `GET /projects/:id/issues_statistics?iids[]=…`, a count of a few bytes. Only a batch whose
 * count falls short is listed (`GET /projects/:id/issues?iids[]=…`): its missing iids are deleted,
 * those GitLab lists as another work item type retyped (docs/GITLAB.md, "Moved, deleted and
 * retyped issues"). A project of 10,000 issues costs 100 small requests an hour. A check that
 * fails is logged and tried again at the next interval (the full sweep is the backstop): it must
 * never hold up the connection's sweeps; a refused token is reported as by any job.
 */
@Injectable()
export class DeletionCheckRunner {
  constructor(
    private readonly writer: IssuePageWriter,
    private readonly sweeps: SweepRunner,
    private readonly connections: ConnectionRepository,
    private readonly requirements: RequirementRepository,
    private readonly access: GitlabAccess,
    private readonly metrics: SyncMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(lease: JobLease, connection: ConnectionRecord, signal: AbortSignal): Promise<void> {
    const startedAt = await lease.now();
    try {
      await this.check(lease, connection, startedAt, signal);
    } catch (error) {
      if (isAuthFailure(error) || signal.aborted) throw error;
      this.metrics.deletionChecks.inc({ result: 'failed' });
      this.logger.warn(
        { err: error, connectionId: connection.connection_id },
        'deletion check failed; trying again at the next interval',
      );
      await this.record(lease, connection, startedAt);
    }
  }

  private async check(
    lease: JobLease,
    connection: ConnectionRecord,
    startedAt: Date,
    signal: AbortSignal,
  ): Promise<void> {
    const connectionId = connection.connection_id;
    const gitlab = await this.access.clientFor(connectionId);
    const projectId = Number(connection.gitlab_project_id);
    const iids = await lease.transaction((tx) =>
      this.requirements.checkableIids(tx, connectionId, startedAt),
    );
    const gone: number[] = [];
    const retyped: number[] = [];
    let listedBatches = 0;
    for (let index = 0; index < iids.length; index += BATCH) {
      if (signal.aborted) return;
      const batch = iids.slice(index, index + BATCH);
      const count = await this.count(gitlab, projectId, batch);
      if (count !== null && count >= batch.length) continue;
      // Some are gone, or no longer of a type the issues API serves: list this batch.
      listedBatches += 1;
      const listed = new Set<number>();
      for await (const page of gitlab.issues.pages(projectId, { iids: batch, per_page: BATCH })) {
        const mapped = this.writer.map(page.items, connection);
        for (const iid of mapped.iids) listed.add(iid);
        retyped.push(...mapped.retyped);
      }
      gone.push(...batch.filter((iid) => !listed.has(iid)));
    }
    if (signal.aborted) return;
    const totals: ChangeCounts = { created: 0, updated: 0, deprecated: 0 };
    if (!(await this.sweeps.deprecateGone(lease, connection, { gone, retyped }, totals))) return;
    if (!(await this.record(lease, connection, startedAt))) return;
    this.metrics.deletionChecks.inc({ result: 'completed' });
    if (totals.deprecated > 0)
      this.metrics.reconciliationRepairs.inc({ kind: 'deletions', repair: 'deprecated' }, totals.deprecated);
    this.logger[totals.deprecated > 0 ? 'info' : 'debug'](
      { connectionId, checked: iids.length, listedBatches, deleted: gone.length, retyped: retyped.length },
      'deletion check finished',
    );
  }

  /** How many of these iids GitLab has; null when the instance cannot count them (then the batch is listed). */
  private async count(
    gitlab: GitlabClient,
    projectId: number,
    iids: readonly number[],
  ): Promise<number | null> {
    try {
      return (await gitlab.issues.statistics(projectId, { iids })).statistics.counts.all;
    } catch (error) {
      if (isAppError(error) && (error.code === 'GITLAB_NOT_FOUND' || error.code === 'GITLAB_REJECTED'))
        return null;
      throw error;
    }
  }

  /** The check started at `startedAt` is done: the next one is due an interval later. */
  private record(lease: JobLease, connection: ConnectionRecord, startedAt: Date): Promise<boolean> {
    return lease.transaction(async (tx) => {
      if (!(await this.writer.stillCurrent(tx, connection))) return false;
      await this.connections.update(tx, connection.connection_id, { last_deletion_check_at: startedAt });
      return true;
    });
  }
}
