import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ConnectionProjection } from '@testkase/consumer-kit';
import { restIssueOfOtherType, snapshotFromRestIssue, type GitlabIssue } from '@testkase/gitlab';
import { Outbox, sqlOf, type OutboxMessage, type Sql } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { SyncMetrics } from '../metrics/sync.metrics';
import { sameContent, sameSecondConflict } from '../requirements/issue-order';
import type { MovedToLink } from '../requirements/moved-issue';
import { requirementEvents, type ChangeCounts } from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import { RequirementRepository, type DefectHoldSettings } from '../requirements/requirement.repository';

/** A page of REST issues, mapped (the CPU part, done while the previous page is being written). */
export interface MappedPage {
  readonly rows: readonly RequirementUpsertRow[];
  /** Every iid GitLab listed, usable or not. */
  readonly iids: readonly number[];
  readonly listed: number;
  /** The newest `updated_at` listed, never later than now (a GitLab clock ahead must not skip changes). */
  readonly maxUpdatedAt: Date | null;
  /** Listed iids of another work item type (an issue retyped to an incident, a task, …). */
  readonly retyped: readonly number[];
}

/** What a write left for a fresh read of the issue: a listing that cannot be ordered against what is stored. */
export interface WriteCounts extends ChangeCounts {
  readonly unordered: readonly number[];
}

/** Maps and writes pages of REST issues for backfills and sweeps. */
@Injectable()
export class IssuePageWriter {
  constructor(
    private readonly connections: ConnectionProjection,
    private readonly requirements: RequirementRepository,
    private readonly outbox: Outbox,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) config: RequirementSyncConfig,
  ) {
    this.hold = { graceMs: config.DEFECT_MARKER_GRACE, pushHoldMaxMs: config.DEFECT_PUSH_HOLD_MAX };
    this.skewMs = config.GITLAB_CLOCK_SKEW;
  }

  private readonly hold: DefectHoldSettings;
  private readonly skewMs: number;

  map(items: readonly GitlabIssue[], connection: ConnectionRecord): MappedPage {
    const context = projectContextOf(connection);
    const rows: RequirementUpsertRow[] = [];
    const iids: number[] = [];
    const retyped: number[] = [];
    let maxUpdatedAt: Date | null = null;
    const now = Date.now();
    for (const item of items) {
      if (typeof item.iid === 'number') iids.push(item.iid);
      const snapshot = snapshotFromRestIssue(item);
      if (!snapshot) {
        const other = restIssueOfOtherType(item);
        if (other) retyped.push(other.iid);
        continue;
      }
      rows.push(toUpsertRow(snapshot, context));
      const seen = snapshot.updatedAt.getTime() > now ? new Date(now) : snapshot.updatedAt;
      if (!maxUpdatedAt || seen > maxUpdatedAt) maxUpdatedAt = seen;
    }
    return { rows, iids, listed: items.length, maxUpdatedAt, retyped };
  }

  /** The rows with where their moved issue went (`find`), where the requirement does not know it yet. */
  async withMovedLinks(
    sql: Sql,
    connection: ConnectionRecord,
    rows: readonly RequirementUpsertRow[],
    find: (iid: number) => Promise<MovedToLink | null>,
  ): Promise<RequirementUpsertRow[]> {
    const moved = rows.filter((row) => row.moved_to_issue_id);
    if (moved.length === 0) return [...rows];
    const known = await this.requirements.knownMoves(
      sql,
      projectContextOf(connection),
      moved.map((row) => row.iid),
    );
    const result: RequirementUpsertRow[] = [];
    for (const row of rows) {
      if (!row.moved_to_issue_id || known.get(row.iid) === row.moved_to_issue_id) {
        result.push(row);
        continue;
      }
      const link = await find(row.iid);
      result.push(link ? { ...row, moved_to_iid: link.iid, moved_to_url: link.webUrl } : row);
    }
    return result;
  }

  /**
   * In the job's transaction: waits out a (dis)connect, checks the connection is still the one the
   * job started for, upserts the rows and stages their events (and `extra`). Returns what changed,
   * or null when the connection was disconnected or replaced meanwhile (the job must stop).
   */
  async write(
    tx: EntityManager,
    connection: ConnectionRecord,
    rows: readonly RequirementUpsertRow[],
    options: {
      extra?: (counts: ChangeCounts) => OutboxMessage[];
      observeLag?: boolean;
      /** The rows were read one by one just now, after their stored state (a fresh read). */
      fresh?: boolean;
      /**
       * `upserted` events go as `upserted_batch` messages of this connection (the backfill;
       * docs/ARCHITECTURE.md, "Events for TestKase core").
       */
      batchEvents?: boolean;
    } = {},
  ): Promise<WriteCounts | null> {
    if (!(await this.stillCurrent(tx, connection))) return null;
    const context = projectContextOf(connection);
    const fresh = options.fresh ?? false;
    const { outcomes } = await this.requirements.upsert(sqlOf(tx), context, rows, this.hold, {
      freshRest: fresh,
      skewMs: this.skewMs,
    });
    const unordered = fresh ? [] : await this.unordered(sqlOf(tx), context, rows, outcomes);
    const { messages, counts: changeCounts } = requirementEvents(
      outcomes,
      options.batchEvents ? { batchFor: connection.connection_id } : {},
    );
    const counts: WriteCounts = { ...changeCounts, unordered };
    await this.outbox.addMany(tx, [...messages, ...(options.extra?.(counts) ?? [])]);
    if (options.observeLag) {
      // A repair's lag: how long after GitLab's change the requirement caught up.
      for (const { record, created } of outcomes) {
        if (created || record.changed_fields.length > 0)
          this.metrics.observeLag('rest', record.gitlab_updated_at);
      }
    }
    return counts;
  }

  /**
   * Listed rows the upsert did not write that only a fresh read can order: the stored state came
   * from a second-precise webhook of the same second, or carries a time from the future, and the
   * content differs (apps/requirement-sync/README.md, "The rules").
   */
  private async unordered(
    sql: Sql,
    context: ReturnType<typeof projectContextOf>,
    rows: readonly RequirementUpsertRow[],
    outcomes: ReadonlyArray<{ record: { iid: number } }>,
  ): Promise<number[]> {
    const written = new Set(outcomes.map((outcome) => outcome.record.iid));
    const rest = new Map(rows.filter((row) => !written.has(row.iid)).map((row) => [row.iid, row]));
    if (rest.size === 0) return [];
    const stored = await this.requirements.orderCandidates(sql, context, [...rest.keys()], this.skewMs);
    return stored.flatMap((record) => {
      const row = rest.get(record.iid);
      if (!row) return [];
      return sameSecondConflict(record, row) || (record.distrusted && !sameContent(record, row))
        ? [record.iid]
        : [];
    });
  }

  /** Enters the connection's gate and checks it is still active with the same state as at the job's start. */
  async stillCurrent(tx: EntityManager, connection: ConnectionRecord): Promise<boolean> {
    await this.connections.enterGate(tx, connection.connection_id);
    const current = await this.connections.find<ConnectionRecord>(tx, connection.connection_id);
    return (
      current !== null &&
      current.state === 'active' &&
      current.state_changed_at.getTime() === connection.state_changed_at.getTime()
    );
  }
}
