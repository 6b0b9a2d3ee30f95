import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, foreignProjectError } from '@testkase/consumer-kit';
import type { IssueSnapshot } from '@testkase/gitlab';
import {
  HoldMessage,
  InboxOutbox,
  inPooledTransaction,
  type OutboxMessage,
  type Sql,
} from '@testkase/platform';
import { TransientError } from '@testkase/util';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { SyncMetrics, type IssueEventOutcome } from '../metrics/sync.metrics';
import { isFromTheFuture, sameContent } from '../requirements/issue-order';
import type { MovedToLink } from '../requirements/moved-issue';
import { requirementEvents } from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import {
  RequirementRepository,
  type DefectHoldSettings,
  type UpsertOutcome,
} from '../requirements/requirement.repository';

/** The inbox name of both issue-event consumers: a delivery is applied once whichever subject carried it. */
export const ISSUE_EVENTS_INBOX = 'requirement-sync-issue-events';

/** One issue event of one connection, parsed. */
export interface IssueEventItem {
  /** The delivery's message id (its Idempotency-Key). */
  readonly eventId: string;
  readonly iid: number;
  readonly projectIds: readonly number[];
  /**
   * null: the payload lacked fields (or, `refetched`, GitLab has no such issue); `refetched`: the
   * snapshot came from GitLab's REST API, read after the stored state was seen.
   */
  readonly snapshot: IssueSnapshot | null;
  readonly refetched: boolean;
  /** A moved issue: where it went, read from GitLab before the event is applied. */
  readonly movedTo?: MovedToLink | null;
  /** The issue became another work item type (its webhook, or GitLab's answer when asked). */
  readonly retyped?: { readonly type: string; readonly updatedAt: Date; readonly exact: boolean };
}

/**
 * Why GitLab is asked for the issue: the payload lacks fields; two changes within one second; an
 * `updated_at` from the future; a stored time from the future (docs/GITLAB.md, "Issue and work
 * item events").
 */
export type AskReason = 'missing_fields' | 'same_second' | 'future' | 'distrusted';

/** What became of an item: an outcome, an error for the consumer, or "ask GitLab" (not claimed). */
export type IssueEventResult =
  { readonly outcome: IssueEventOutcome } | { readonly error: unknown } | { readonly askGitlab: AskReason };

const withMovedLink = (
  row: RequirementUpsertRow,
  link: MovedToLink | null | undefined,
): RequirementUpsertRow =>
  link && row.moved_to_issue_id ? { ...row, moved_to_iid: link.iid, moved_to_url: link.webUrl } : row;

function itemAt(items: readonly IssueEventItem[], index: number): IssueEventItem {
  const item = items[index];
  if (!item) throw new Error(`no issue event at ${index}`);
  return item;
}

/** Items in rounds in which every issue appears once, each issue's changes in GitLab's order. */
function rounds(items: ReadonlyArray<{ index: number; row: RequirementUpsertRow }>): Array<typeof items> {
  const byIssue = new Map<number, Array<{ index: number; row: RequirementUpsertRow }>>();
  for (const item of items) {
    const list = byIssue.get(item.row.iid) ?? [];
    list.push(item);
    byIssue.set(item.row.iid, list);
  }
  const result: Array<Array<{ index: number; row: RequirementUpsertRow }>> = [];
  for (const list of byIssue.values()) {
    list.sort((a, b) => Date.parse(a.row.gitlab_updated_at) - Date.parse(b.row.gitlab_updated_at));
    list.forEach((item, round) => (result[round] ??= []).push(item));
  }
  return result;
}

/**
 * Applies issue events of one connection in one transaction: the connection's gate (no disconnect
 * in between), the project check, the forward-only upserts, the inbox entries and the events.
 * Works on batches so that a burst costs one commit per batch, not one per event.
 */
@Injectable()
export class IssueEventApplier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly inboxOutbox: InboxOutbox,
    private readonly requirements: RequirementRepository,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) config: RequirementSyncConfig,
  ) {
    this.hold = { graceMs: config.DEFECT_MARKER_GRACE, pushHoldMaxMs: config.DEFECT_PUSH_HOLD_MAX };
    this.skewMs = config.GITLAB_CLOCK_SKEW;
  }

  private readonly hold: DefectHoldSettings;
  private readonly skewMs: number;

  /** @param connectionId a UUID (the caller checked it: it is written into the opening SQL) */
  async apply(connectionId: string, items: readonly IssueEventItem[]): Promise<IssueEventResult[]> {
    // One round trip: BEGIN, the connection's gate (no disconnect in between), then its state.
    const opening = this.connections.gateAndReadStatement(connectionId);
    return inPooledTransaction(this.dataSource, opening, async (sql, opened) => {
      const connection = opened[1]?.rows[0] as ConnectionRecord | undefined;
      if (!connection) {
        // The connected event may still be on its way: try again later.
        const error = new TransientError('unknown connection', { details: { connectionId } });
        return items.map(() => ({ error }));
      }
      if (connection.paused_at) {
        // Paused by an operator: held, redelivered later, never applied (docs/ADMIN-API.md).
        const error = new HoldMessage(`connection ${connectionId} is paused`);
        return items.map(() => ({ error }));
      }
      return this.applyTo(sql, connection, items);
    });
  }

  private async applyTo(
    sql: Sql,
    connection: ConnectionRecord,
    items: readonly IssueEventItem[],
  ): Promise<IssueEventResult[]> {
    const results: Array<IssueEventResult | undefined> = new Array(items.length);
    const decided = new Map<number, IssueEventOutcome>();
    const firstOfEvent = new Map<string, number>();
    items.forEach((item, index) => {
      const foreign = foreignProjectError(connection, item.projectIds);
      if (foreign) {
        results[index] = { error: foreign };
      } else if (firstOfEvent.has(item.eventId)) {
        results[index] = { outcome: 'duplicate' };
      } else {
        firstOfEvent.set(item.eventId, index);
      }
    });
    const valid = [...firstOfEvent.values()];

    let messages: OutboxMessage[] = [];
    if (connection.state !== 'active') {
      for (const index of valid) decided.set(index, 'connection_inactive');
    } else {
      messages = await this.upsertAll(sql, connection, items, valid, results, decided);
    }

    const toClaim = valid.filter((index) => results[index] === undefined);
    const eventIds = new Map(toClaim.map((index) => [index, itemAt(items, index).eventId]));
    const claimed = await this.inboxOutbox.claimAndStage(
      sql,
      ISSUE_EVENTS_INBOX,
      [...eventIds.values()],
      messages,
    );
    for (const [index, eventId] of eventIds) {
      results[index] = { outcome: claimed.has(eventId) ? (decided.get(index) ?? 'stale') : 'duplicate' };
    }
    return results.map((result) => result ?? { outcome: 'stale' });
  }

  /** Upserts the items that carry a snapshot; returns the events to stage. */
  private async upsertAll(
    sql: Sql,
    connection: ConnectionRecord,
    items: readonly IssueEventItem[],
    valid: readonly number[],
    results: Array<IssueEventResult | undefined>,
    decided: Map<number, IssueEventOutcome>,
  ): Promise<OutboxMessage[]> {
    const context = projectContextOf(connection);
    const rows: Array<{ index: number; row: RequirementUpsertRow }> = [];
    const retypes: number[] = [];
    for (const index of valid) {
      const item = itemAt(items, index);
      if (item.retyped) retypes.push(index);
      else if (item.snapshot) {
        // A time beyond our clock (a GitLab clock jump, a crafted delivery) orders nothing: ask GitLab.
        if (!item.refetched && isFromTheFuture(item.snapshot.updatedAt, this.skewMs))
          results[index] = { askGitlab: 'future' };
        else rows.push({ index, row: withMovedLink(toUpsertRow(item.snapshot, context), item.movedTo) });
      } else if (item.refetched)
        decided.set(index, 'stale'); // GitLab no longer has it: the deletion check decides
      else results[index] = { askGitlab: 'missing_fields' };
    }
    const written: UpsertOutcome[] = [];
    if (retypes.length > 0)
      await this.applyRetypes(sql, connection, items, retypes, results, decided, written);
    const notWritten: Array<{ index: number; row: RequirementUpsertRow }> = [];
    for (const round of rounds(rows)) {
      // Every REST snapshot here was read after its webhook's state was seen (fresh).
      const { outcomes, held } = await this.requirements.upsert(
        sql,
        context,
        round.map((item) => item.row),
        this.hold,
        { freshRest: true, skewMs: this.skewMs },
      );
      const byIid = new Map(outcomes.map((outcome) => [outcome.record.iid, outcome]));
      for (const item of round) {
        const outcome = byIid.get(item.row.iid);
        if (held.has(item.row.iid)) {
          decided.set(item.index, 'defect_held');
          continue;
        }
        if (!outcome) {
          notWritten.push(item);
          continue;
        }
        written.push(outcome);
        const refetched = itemAt(items, item.index).refetched;
        decided.set(
          item.index,
          outcome.created ? 'created' : outcome.record.changed_fields.length > 0 ? 'updated' : 'unchanged',
        );
        this.metrics.observeLag(refetched ? 'rest' : 'webhook', new Date(item.row.gitlab_updated_at));
        if (refetched) this.metrics.events.inc({ outcome: 'refetched' });
      }
    }
    if (notWritten.length > 0) {
      await this.explainNotWritten(sql, connection, items, notWritten, results, decided);
    }
    return requirementEvents(written).messages;
  }

  /** Why an upsert wrote nothing: a defect, an older event, or two changes only GitLab can order. */
  private async explainNotWritten(
    sql: Sql,
    connection: ConnectionRecord,
    items: readonly IssueEventItem[],
    notWritten: ReadonlyArray<{ index: number; row: RequirementUpsertRow }>,
    results: Array<IssueEventResult | undefined>,
    decided: Map<number, IssueEventOutcome>,
  ): Promise<void> {
    const context = projectContextOf(connection);
    const iids = notWritten.map((item) => item.row.iid);
    const stored = new Map(
      (await this.requirements.findByIssues(sql, context, iids)).map((record) => [record.iid, record]),
    );
    const defects = await this.requirements.defectIids(sql, context, iids);
    const held = await this.requirements.heldIids(sql, connection.connection_id, iids);
    for (const { index, row } of notWritten) {
      const record = stored.get(row.iid);
      if (!record) {
        decided.set(
          index,
          defects.has(row.iid) ? 'defect_skipped' : held.has(row.iid) ? 'defect_held' : 'stale',
        );
        continue;
      }
      const sameSecond =
        !row.exact &&
        Math.floor(record.gitlab_updated_at.getTime() / 1000) * 1000 ===
          new Date(row.gitlab_updated_at).getTime();
      const mayAsk =
        !itemAt(items, index).refetched &&
        record.sync_state === 'synced' &&
        record.connection_id === connection.connection_id &&
        !sameContent(record, row);
      if (mayAsk && sameSecond) results[index] = { askGitlab: 'same_second' };
      else if (mayAsk && isFromTheFuture(record.gitlab_updated_at, this.skewMs))
        results[index] = { askGitlab: 'distrusted' };
      else decided.set(index, 'stale');
    }
  }

  /**
   * Issues turned into another work item type: their requirements become Deprecated (`retyped`),
   * forward only. An event about a work item that never was a requirement is `work_item_skipped`.
   */
  private async applyRetypes(
    sql: Sql,
    connection: ConnectionRecord,
    items: readonly IssueEventItem[],
    indexes: readonly number[],
    results: Array<IssueEventResult | undefined>,
    decided: Map<number, IssueEventOutcome>,
    written: UpsertOutcome[],
  ): Promise<void> {
    const context = projectContextOf(connection);
    const retypes = indexes.map((index) => ({ index, item: itemAt(items, index) }));
    const records = await this.requirements.deprecateRetyped(
      sql,
      context,
      retypes.flatMap(({ item }) =>
        item.retyped
          ? [
              {
                iid: item.iid,
                updatedAt: item.retyped.updatedAt,
                exact: item.retyped.exact,
                fresh: item.refetched,
              },
            ]
          : [],
      ),
    );
    const byIid = new Map(records.map((record) => [record.iid, record]));
    for (const record of byIid.values()) written.push({ record, created: false });
    const notWritten = retypes.filter(({ item }) => !byIid.has(item.iid));
    const stored = new Map(
      (
        await this.requirements.findByIssues(
          sql,
          context,
          notWritten.map(({ item }) => item.iid),
        )
      ).map((record) => [record.iid, record]),
    );
    for (const { index, item } of retypes) {
      const record = byIid.get(item.iid);
      if (record) {
        decided.set(index, record.changed_fields.length > 0 ? 'retyped' : 'unchanged');
        continue;
      }
      const current = stored.get(item.iid);
      const mayAsk =
        current !== undefined &&
        !item.refetched &&
        current.sync_state === 'synced' &&
        current.connection_id === connection.connection_id &&
        current.deprecated_reason !== 'retyped';
      const sameSecond =
        item.retyped !== undefined &&
        Math.floor((current?.gitlab_updated_at.getTime() ?? 0) / 1000) ===
          Math.floor(item.retyped.updatedAt.getTime() / 1000);
      if (!current) decided.set(index, 'work_item_skipped');
      else if (mayAsk && isFromTheFuture(current.gitlab_updated_at, this.skewMs))
        results[index] = { askGitlab: 'distrusted' };
      else if (mayAsk && sameSecond) results[index] = { askGitlab: 'same_second' };
      else decided.set(index, 'stale');
    }
  }
}
