import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GitlabAccess, type JobLease } from '@testkase/consumer-kit';
import { snapshotFromRestIssue, type GitlabIssue, type IssueListQuery } from '@testkase/gitlab';
import { LOGGER, type Logger } from '@testkase/platform';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import type { DefectConnectionRecord } from '../connections/connection.record';
import { SweepStateRepository } from '../connections/sweep-state.repository';
import { DefectMetrics } from '../metrics/defect.metrics';
import { SCHEMA } from '../persistence/schema';
import { GitlabChangeApplier } from '../webhooks/gitlab-change.applier';

const D = `"${SCHEMA}".defects`;
const BATCH = 100;

/**
 * Reconciliation of pushed issues, in both directions. `incremental` reads the issues GitLab
 * changed since the watermark (minus a safety margin) and applies those defect-sync created, as a
 * webhook would have; `full` reads every pushed issue by iid (and records the ones GitLab no longer
 * has). Both then make due again what waits for a sweep: TestKase changes whose GitLab write was
 * refused, and priority labels that could not be applied.
 */
@Injectable()
export class Reconciler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: GitlabAccess,
    private readonly state: SweepStateRepository,
    private readonly applier: GitlabChangeApplier,
    private readonly metrics: DefectMetrics,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(
    lease: JobLease,
    connection: DefectConnectionRecord,
    kind: 'incremental' | 'full',
    signal: AbortSignal,
  ): Promise<void> {
    const connectionId = connection.connection_id;
    const gitlabProjectId = Number(connection.gitlab_project_id);
    const gitlab = await this.access.clientFor(connectionId);
    const startedAt = await lease.now();
    const totals = { checked: 0, repaired: 0, gone: 0 };
    let watermark: Date | null = null;

    const applyAll = async (issues: readonly GitlabIssue[]) => {
      const iids = issues.map((issue) => issue.iid);
      const ours = new Set(
        (
          (await this.dataSource.query(
            `SELECT iid FROM ${D} WHERE connection_id = $1::uuid AND detached_at IS NULL AND iid = ANY($2::integer[])`,
            [connectionId, iids],
          )) as Array<{ iid: number }>
        ).map((row) => row.iid),
      );
      for (const issue of issues) {
        const snapshot = snapshotFromRestIssue(issue);
        if (!snapshot) continue;
        // Every issue listed moves the watermark, ours or not: the next sweep starts after them.
        if (!watermark || snapshot.updatedAt > watermark) watermark = snapshot.updatedAt;
        if (!ours.has(issue.iid)) continue;
        totals.checked += 1;
        const outcome = await this.applier.apply(connectionId, snapshot, {});
        if (outcome === 'applied') totals.repaired += 1;
      }
    };

    const since = connection.watermark;
    if (kind === 'incremental' && since) {
      const query: IssueListQuery = {
        updated_after: new Date(since.getTime() - this.config.RECONCILE_SAFETY_MARGIN).toISOString(),
        order_by: 'updated_at',
        sort: 'asc',
        per_page: BATCH,
      };
      for await (const page of gitlab.issues.pages(gitlabProjectId, query)) {
        if (signal.aborted) return;
        await applyAll(page.items);
      }
    } else {
      for (let after = 0; ;) {
        if (signal.aborted) return;
        const iids = (
          (await this.dataSource.query(
            `SELECT iid FROM ${D} WHERE connection_id = $1::uuid AND detached_at IS NULL AND iid > $2
              ORDER BY iid LIMIT $3`,
            [connectionId, after, BATCH],
          )) as Array<{ iid: number }>
        ).map((row) => row.iid);
        if (iids.length === 0) break;
        after = iids[iids.length - 1] ?? after;
        const listed: GitlabIssue[] = [];
        for await (const page of gitlab.issues.pages(gitlabProjectId, { iids, per_page: BATCH })) {
          listed.push(...page.items);
        }
        await applyAll(listed);
        const present = new Set(listed.map((issue) => issue.iid));
        const gone = iids.filter((iid) => !present.has(iid));
        if (gone.length > 0) totals.gone += await this.markGone(connectionId, gone);
      }
    }

    const [, retried]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ${D} SET next_attempt_at = now(), updated_at = now()
        WHERE connection_id = $1::uuid AND detached_at IS NULL AND push_state = 'created'
          AND (next_attempt_at IS NULL OR next_attempt_at > now())
          AND (pending_label IS NOT NULL OR cardinality(dirty) > 0)
          AND coalesce(error_code, '') NOT IN ('AUTH_FAILED', 'TOKEN_EXPIRED', 'GITLAB_NOT_FOUND')`,
      [connectionId],
    );
    await lease.transaction((tx) => this.state.finish(tx, connectionId, kind, startedAt, watermark));
    this.metrics.reconciliations.inc({ kind, result: 'completed' });
    this.logger[totals.repaired + totals.gone + retried > 0 ? 'info' : 'debug'](
      { connectionId, kind, ...totals, retried },
      'reconciliation of pushed issues finished',
    );
  }

  /** Defects whose issue GitLab no longer lists (deleted, or moved to another project). */
  private async markGone(connectionId: string, iids: readonly number[]): Promise<number> {
    const [, count]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ${D} SET error_code = 'GITLAB_NOT_FOUND',
          error_message = 'The GitLab issue is gone (deleted, or moved to another project)',
          error_at = now(), next_attempt_at = NULL, version = version + 1, updated_at = now()
        WHERE connection_id = $1::uuid AND iid = ANY($2::integer[]) AND detached_at IS NULL
          AND error_code IS DISTINCT FROM 'GITLAB_NOT_FOUND'`,
      [connectionId, iids],
    );
    return count;
  }
}
