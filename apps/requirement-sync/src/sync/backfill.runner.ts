import { Inject, Injectable } from '@nestjs/common';

import { GitlabAccess, type JobLease } from '@testkase/consumer-kit';
import { BackfillProgressReported, type BackfillProgressReportedV1 } from '@testkase/contracts';
import type { GitlabClient } from '@testkase/gitlab';
import { buildCloudEvent, LOGGER, Outbox, type Logger, type OutboxMessage } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import type { ConnectionRecord } from '../connections/connection.record';
import { ConnectionRepository } from '../connections/connection.repository';
import { SyncMetrics } from '../metrics/sync.metrics';
import { EVENT_SOURCE } from '../requirements/requirement-events';
import type { RequirementUpsertRow } from '../requirements/requirement-mapping';
import { writeInBatches } from './batched-writes';
import { IssuePageWriter, type MappedPage } from './issue-page.writer';
import { prefetch } from './prefetch';

/** Every issue of the project, open and closed, oldest first (stable under offset pagination too). */
export const ALL_ISSUES_QUERY = {
  issue_type: 'issue',
  keyset: true,
  order_by: 'created_at',
  sort: 'asc',
  per_page: 100,
} as const;

/** Pages written together at most, when GitLab answers faster than the database commits. */
const BATCH_PAGES = 5;

/**
 * The first import of a connection. Each batch of pages is written in one transaction with its
 * events and the checkpoint (GitLab's opaque next-page link), so a crash or a redeploy continues
 * after the last written batch: never from zero, never importing a page twice. While one batch
 * is written, the next pages are already being fetched and mapped.
 */
@Injectable()
export class BackfillRunner {
  constructor(
    private readonly writer: IssuePageWriter,
    private readonly connections: ConnectionRepository,
    private readonly access: GitlabAccess,
    private readonly metrics: SyncMetrics,
    private readonly outbox: Outbox,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(lease: JobLease, start: ConnectionRecord, signal: AbortSignal): Promise<void> {
    const connectionId = start.connection_id;
    const gitlab = await this.access.clientFor(connectionId);
    const connection = start;
    if (connection.backfill_state !== 'running') {
      const expected = await this.estimateExpected(gitlab, Number(connection.gitlab_project_id));
      const begun = await lease.transaction(async (tx) => {
        if (!(await this.writer.stillCurrent(tx, connection))) return null;
        const startedAt = new Date();
        await this.connections.update(tx, connectionId, {
          backfill_state: 'running',
          backfill_started_at: startedAt,
          backfill_expected: expected,
          backfill_imported: 0,
          backfill_cursor: null,
        });
        const updated = {
          ...connection,
          backfill_state: 'running' as const,
          backfill_started_at: startedAt,
          backfill_expected: expected,
        };
        await this.outbox.addMany(tx, [this.progress(updated, 'running', 0)]);
        return updated;
      });
      if (!begun) return;
      this.logger.info({ connectionId, expected }, 'backfill started');
      // The first turn only makes the estimate: the scheduler then takes the backfills with the
      // fewest issues left first (apps/requirement-sync/README.md, "Backfill").
      return;
    } else {
      this.logger.info(
        {
          connectionId,
          imported: connection.backfill_imported,
          resuming: connection.backfill_cursor !== null,
        },
        'backfill continues from its checkpoint',
      );
    }

    this.metrics.backfillProgress(connectionId, connection.backfill_imported, connection.backfill_expected);
    try {
      await this.import(lease, connection, gitlab, signal);
    } finally {
      this.metrics.backfillEnded(connectionId);
    }
  }

  private async import(
    lease: JobLease,
    connection: ConnectionRecord,
    gitlab: GitlabClient,
    signal: AbortSignal,
  ): Promise<void> {
    const connectionId = connection.connection_id;
    const progress = {
      imported: connection.backfill_imported,
      watermark: connection.watermark,
      reportedAt: Date.now(),
    };
    const pages = gitlab.issues.pages(Number(connection.gitlab_project_id), ALL_ISSUES_QUERY, {
      resumeFrom: connection.backfill_cursor ?? undefined,
    });
    const current = connection;
    // This turn ends after BACKFILL_SLICE: no page is fetched after that, the ones fetched are
    // written, and a later job goes on from the checkpoint (apps/requirement-sync/README.md).
    const turnEnds = Date.now() + this.config.BACKFILL_SLICE;
    async function* thisTurn<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
      for await (const item of source) {
        yield item;
        if (Date.now() >= turnEnds) return;
      }
    }
    async function* mappedPages(
      writer: IssuePageWriter,
    ): AsyncGenerator<MappedPage & { next: string | null }> {
      for await (const page of prefetch(thisTurn(pages))) {
        if (signal.aborted) return;
        yield { ...writer.map(page.items, current), next: page.next };
      }
    }
    let completed = false;
    const written = await writeInBatches(
      mappedPages(this.writer),
      async (batch) => {
        const last = batch.at(-1);
        if (!last) return true;
        const listed = batch.reduce((sum, page) => sum + page.listed, 0);
        let watermark = progress.watermark;
        for (const page of batch) {
          if (page.maxUpdatedAt && (!watermark || page.maxUpdatedAt > watermark))
            watermark = page.maxUpdatedAt;
        }
        const done = last.next === null;
        const reportNow = done || Date.now() - progress.reportedAt >= this.config.BACKFILL_PROGRESS_INTERVAL;
        const ok = await this.writeBatch(
          lease,
          current,
          batch.flatMap((page) => page.rows),
          {
            next: last.next,
            imported: progress.imported + listed,
            listed,
            watermark,
            reportNow,
          },
        );
        if (ok) {
          progress.imported += listed;
          progress.watermark = watermark;
          if (reportNow) progress.reportedAt = Date.now();
          completed = done;
        }
        return ok;
      },
      BATCH_PAGES,
    );
    if (written && completed)
      this.logger.info({ connectionId, imported: progress.imported }, 'backfill completed');
  }

  private async writeBatch(
    lease: JobLease,
    connection: ConnectionRecord,
    rows: RequirementUpsertRow[],
    page: {
      next: string | null;
      imported: number;
      listed: number;
      watermark: Date | null;
      reportNow: boolean;
    },
  ): Promise<boolean> {
    const connectionId = connection.connection_id;
    const last = page.next === null;
    const written = await lease.transaction(async (tx) => {
      const finishedAt = last ? new Date() : null;
      const counts = await this.writer.write(tx, connection, rows, {
        batchEvents: true,
        extra: () =>
          page.reportNow
            ? [this.progress(connection, last ? 'completed' : 'running', page.imported, finishedAt)]
            : [],
      });
      if (!counts) return false;
      await this.connections.update(tx, connectionId, {
        backfill_cursor: page.next,
        backfill_imported: page.imported,
        watermark: page.watermark,
        ...(last
          ? {
              backfill_state: 'completed' as const,
              backfill_finished_at: finishedAt,
              backfill_expected: page.imported,
              // The backfill listed everything: it counts as a sweep.
              last_reconciled_at: finishedAt,
              last_full_sweep_at: finishedAt,
            }
          : {}),
      });
      return true;
    });
    if (written) {
      this.metrics.backfillIssues.inc(page.listed);
      this.metrics.backfillProgress(connectionId, page.imported, last ? page.imported : undefined);
    }
    return written;
  }

  /** Marks the backfill failed (GitLab will not let us read the project) and says so. */
  async fail(lease: JobLease, connection: ConnectionRecord, reason: string): Promise<void> {
    await lease.transaction(async (tx) => {
      if (!(await this.writer.stillCurrent(tx, connection))) return;
      const finishedAt = new Date();
      await this.connections.update(tx, connection.connection_id, {
        backfill_state: 'failed',
        backfill_finished_at: finishedAt,
      });
      await this.outbox.addMany(tx, [
        this.progress(connection, 'failed', connection.backfill_imported, finishedAt),
      ]);
    });
    this.logger.warn({ connectionId: connection.connection_id, reason }, 'backfill failed');
  }

  /**
   * GitLab gives no count for keyset pages (nor above 10,000 records), so the highest issue iid is
   * the estimate: an upper bound, since deleted issues and other work items share the sequence.
   */
  private async estimateExpected(gitlab: GitlabClient, gitlabProjectId: number): Promise<number | null> {
    try {
      for await (const page of gitlab.issues.pages(gitlabProjectId, {
        issue_type: 'issue',
        order_by: 'created_at',
        sort: 'desc',
        per_page: 1,
      })) {
        return page.items[0]?.iid ?? 0;
      }
      return 0;
    } catch {
      return null;
    }
  }

  private progress(
    connection: ConnectionRecord,
    state: BackfillProgressReportedV1['state'],
    imported: number,
    finishedAt: Date | null = null,
  ): OutboxMessage {
    const data: BackfillProgressReportedV1 = {
      connectionId: connection.connection_id,
      projectId: connection.project_id,
      state,
      imported,
      expected: state === 'completed' ? imported : connection.backfill_expected,
      startedAt: (connection.backfill_started_at ?? new Date()).toISOString(),
      finishedAt: finishedAt?.toISOString() ?? null,
    };
    return {
      subject: BackfillProgressReported.subject,
      event: buildCloudEvent(EVENT_SOURCE, BackfillProgressReported, data, {
        subject: connection.connection_id,
      }),
    };
  }
}
