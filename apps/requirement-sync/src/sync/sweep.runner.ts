import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { GitlabAccess, type JobLease } from '@testkase/consumer-kit';
import { ReconciliationReported, type ReconciliationReportedV1 } from '@testkase/contracts';
import type { GitlabClient, IssueListQuery } from '@testkase/gitlab';
import { buildCloudEvent, LOGGER, Outbox, sqlOf, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { ConnectionRepository } from '../connections/connection.repository';
import { SyncMetrics } from '../metrics/sync.metrics';
import {
  asOutcomes,
  EVENT_SOURCE,
  requirementEvents,
  type ChangeCounts,
} from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import { RequirementRepository } from '../requirements/requirement.repository';
import { ALL_ISSUES_QUERY } from './backfill.runner';
import { writeInBatches } from './batched-writes';
import { IssueFateReader } from './issue-fate.reader';
import { IssuePageWriter, type MappedPage } from './issue-page.writer';
import { prefetch } from './prefetch';

export type SweepKind = ReconciliationReportedV1['kind'];

const VERIFY_BATCH = 100;
const BATCH_PAGES = 5;

/**
 * Reconciliation. `incremental`: the issues GitLab changed since the last watermark (minus a
 * safety margin), repairing whatever a lost webhook missed. `full`: every issue, and then the
 * requirements whose issue GitLab no longer lists are checked one batch at a time and deprecated
 * (`deleted`, or `retyped` when GitLab has it as another work item type). A moved issue gets the
 * link to its new issue; a listed issue that cannot be ordered against what is stored (same second
 * as a webhook, or a time from the future) is read again on its own. Each sweep reports what it
 * repaired.
 */
@Injectable()
export class SweepRunner {
  constructor(
    private readonly writer: IssuePageWriter,
    private readonly connections: ConnectionRepository,
    private readonly requirements: RequirementRepository,
    private readonly access: GitlabAccess,
    private readonly fate: IssueFateReader,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(
    lease: JobLease,
    connection: ConnectionRecord,
    kind: SweepKind,
    signal: AbortSignal,
  ): Promise<void> {
    const connectionId = connection.connection_id;
    const gitlab = await this.access.clientFor(connectionId);
    const startedAt = await lease.now();
    const since = connection.watermark ?? connection.backfill_started_at;
    const query: IssueListQuery =
      kind === 'incremental' && since
        ? {
            ...ALL_ISSUES_QUERY,
            order_by: 'updated_at',
            updated_after: new Date(since.getTime() - this.config.RECONCILE_SAFETY_MARGIN).toISOString(),
          }
        : ALL_ISSUES_QUERY;

    const totals: ChangeCounts & { checked: number } = { checked: 0, created: 0, updated: 0, deprecated: 0 };
    const seen = new Set<number>();
    let watermark = connection.watermark;
    const pages = gitlab.issues.pages(Number(connection.gitlab_project_id), query);
    const writer = this.writer;
    const sql = sqlOf(this.dataSource.manager);
    const movedTo = (iid: number) => this.fate.movedTo(connection, iid, gitlab);
    const unordered: number[] = [];
    async function* mappedPages(): AsyncGenerator<MappedPage> {
      for await (const page of prefetch(pages)) {
        if (signal.aborted) return;
        const mapped = writer.map(page.items, connection);
        yield { ...mapped, rows: await writer.withMovedLinks(sql, connection, mapped.rows, movedTo) };
      }
    }
    const listed = await writeInBatches(
      mappedPages(),
      async (batch) => {
        let batchWatermark = watermark;
        for (const page of batch) {
          if (page.maxUpdatedAt && (!batchWatermark || page.maxUpdatedAt > batchWatermark)) {
            batchWatermark = page.maxUpdatedAt;
          }
        }
        const counts = await lease.transaction(async (tx) => {
          const rows = batch.flatMap((page) => page.rows);
          const written = await this.writer.write(tx, connection, rows, { observeLag: true });
          if (written) await this.connections.update(tx, connectionId, { watermark: batchWatermark });
          return written;
        });
        if (!counts) return false;
        watermark = batchWatermark;
        this.add(totals, counts);
        unordered.push(...counts.unordered);
        for (const page of batch) {
          totals.checked += page.listed;
          for (const iid of page.iids) seen.add(iid);
        }
        return true;
      },
      BATCH_PAGES,
    );
    if (!listed || signal.aborted) return;
    if (!(await this.readAgain(lease, connection, unordered, totals))) return;

    if (kind === 'full') {
      const found = await this.findGone(lease, gitlab, connection, seen, startedAt, totals);
      if (found === null) return;
      const ok = await this.deprecateGone(lease, connection, found, totals);
      if (!ok) return;
    }

    const finishedAt = new Date();
    await lease.transaction(async (tx) => {
      if (!(await this.writer.stillCurrent(tx, connection))) return;
      await this.finish(tx, connection, kind, startedAt);
      const report: ReconciliationReportedV1 = {
        connectionId,
        projectId: connection.project_id,
        kind,
        checked: totals.checked,
        created: totals.created,
        updated: totals.updated,
        deprecated: totals.deprecated,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
      };
      await this.outbox.addMany(tx, [
        {
          subject: ReconciliationReported.subject,
          event: buildCloudEvent(EVENT_SOURCE, ReconciliationReported, report, { subject: connectionId }),
        },
      ]);
    });
    this.metrics.reconciliations.inc({ kind, result: 'completed' });
    for (const repair of ['created', 'updated', 'deprecated'] as const) {
      if (totals[repair] > 0) this.metrics.reconciliationRepairs.inc({ kind, repair }, totals[repair]);
    }
    const repaired = totals.created + totals.updated + totals.deprecated;
    this.logger[repaired > 0 ? 'info' : 'debug'](
      { connectionId, kind, ...totals },
      'reconciliation finished',
    );
  }

  /**
   * Deprecates the requirements of issues GitLab no longer has (`deleted`) or has as another work
   * item type (`retyped`). False when the connection changed meanwhile.
   */
  async deprecateGone(
    lease: JobLease,
    connection: ConnectionRecord,
    found: { gone: readonly number[]; retyped: readonly number[] },
    totals: ChangeCounts,
  ): Promise<boolean> {
    if (found.gone.length === 0 && found.retyped.length === 0) return true;
    return lease.transaction(async (tx) => {
      if (!(await this.writer.stillCurrent(tx, connection))) return false;
      const records = [
        ...(await this.requirements.deprecateDeleted(tx, connection.connection_id, found.gone, 'deleted')),
        ...(await this.requirements.deprecateDeleted(tx, connection.connection_id, found.retyped, 'retyped')),
      ];
      const { messages, counts } = requirementEvents(asOutcomes(records), {
        deprecatedReason: 'deleted_or_moved',
      });
      await this.outbox.addMany(tx, messages);
      totals.deprecated += counts.deprecated;
      return true;
    });
  }

  /**
   * Listed issues that could not be ordered against what is stored, read one by one and written
   * as fresh reads (or deprecated, if GitLab now has them as another type). False when the
   * connection changed meanwhile.
   */
  private async readAgain(
    lease: JobLease,
    connection: ConnectionRecord,
    iids: readonly number[],
    totals: ChangeCounts,
  ): Promise<boolean> {
    const rows: RequirementUpsertRow[] = [];
    const retyped: number[] = [];
    for (const iid of new Set(iids)) {
      this.metrics.refetches.inc({ reason: 'sweep_unordered' });
      const fate = await this.fate.read(connection, iid);
      if (fate.kind === 'retyped') retyped.push(iid);
      if (fate.kind !== 'issue') continue;
      const mapped = toUpsertRow(fate.snapshot, projectContextOf(connection));
      const link = fate.snapshot.movedToId === undefined ? null : await this.fate.movedTo(connection, iid);
      rows.push(link ? { ...mapped, moved_to_iid: link.iid, moved_to_url: link.webUrl } : mapped);
    }
    if (rows.length > 0) {
      const counts = await lease.transaction((tx) =>
        this.writer.write(tx, connection, rows, { observeLag: true, fresh: true }),
      );
      if (!counts) return false;
      this.add(totals, counts);
    }
    return this.deprecateGone(lease, connection, { gone: [], retyped }, totals);
  }

  /**
   * Requirements whose issue the listing did not show, re-checked by iid (an issue created during
   * the sweep, or skipped by offset pagination, must not be deprecated): those GitLab still has as
   * issues are upserted; those it has as another work item type are `retyped`, the rest `gone`.
   * Null when the connection changed meanwhile.
   */
  private async findGone(
    lease: JobLease,
    gitlab: GitlabClient,
    connection: ConnectionRecord,
    seen: ReadonlySet<number>,
    startedAt: Date,
    totals: ChangeCounts,
  ): Promise<{ gone: number[]; retyped: number[] } | null> {
    const candidates = await lease.transaction((tx) =>
      this.requirements.missingIids(tx, connection.connection_id, [...seen], startedAt),
    );
    const gone: number[] = [];
    const retyped: number[] = [];
    for (let index = 0; index < candidates.length; index += VERIFY_BATCH) {
      const batch = candidates.slice(index, index + VERIFY_BATCH);
      const found: MappedPage[] = [];
      for await (const page of gitlab.issues.pages(Number(connection.gitlab_project_id), {
        iids: batch,
        per_page: 100,
      })) {
        found.push(this.writer.map(page.items, connection));
      }
      const present = new Set(found.flatMap((page) => page.rows.map((row) => row.iid)));
      const otherType = new Set(found.flatMap((page) => page.retyped));
      retyped.push(...batch.filter((iid) => otherType.has(iid)));
      gone.push(...batch.filter((iid) => !present.has(iid) && !otherType.has(iid)));
      const rows = found.flatMap((page) => page.rows);
      if (rows.length > 0) {
        const counts = await lease.transaction((tx) =>
          this.writer.write(tx, connection, rows, { observeLag: true }),
        );
        if (!counts) return null;
        this.add(totals, counts);
      }
    }
    return { gone, retyped };
  }

  private async finish(
    tx: EntityManager,
    connection: ConnectionRecord,
    kind: SweepKind,
    startedAt: Date,
  ): Promise<void> {
    await this.connections.finishSweep(tx, connection.connection_id, kind, startedAt);
  }

  private add(totals: ChangeCounts, counts: ChangeCounts): void {
    totals.created += counts.created;
    totals.updated += counts.updated;
    totals.deprecated += counts.deprecated;
  }
}
