import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, foreignProjectError } from '@testkase/consumer-kit';
import type { IssueSnapshot } from '@testkase/gitlab';
import { InboxOutbox, inPooledTransaction, type OutboxMessage, type Sql } from '@testkase/platform';
import { TransientError } from '@testkase/util';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { SyncMetrics, type IssueEventOutcome } from '../metrics/sync.metrics';
import { requirementEvents } from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import type { RequirementRecord } from '../requirements/requirement.record';
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
  /** null: the payload lacked fields; `refetched`: the snapshot came from GitLab's REST API. */
  readonly snapshot: IssueSnapshot | null;
  readonly refetched: boolean;
}

/** What became of an item: an outcome, an error for the consumer, or "ask GitLab" (not claimed). */
export type IssueEventResult =
  { readonly outcome: IssueEventOutcome } | { readonly error: unknown } | { readonly askGitlab: string };

const sameContent = (stored: RequirementRecord, row: RequirementUpsertRow): boolean =>
  stored.title === row.title &&
  stored.description_markdown === row.description_markdown &&
  stored.status === row.status &&
  stored.confidential === row.confidential &&
  stored.labels.length === row.labels.length &&
  stored.labels.every((label, index) => label === row.labels[index]);

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
  }

  private readonly hold: DefectHoldSettings;

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
    for (const index of valid) {
      const item = itemAt(items, index);
      if (item.snapshot) rows.push({ index, row: toUpsertRow(item.snapshot, context) });
      else if (item.refetched)
        decided.set(index, 'stale'); // GitLab no longer has it as an issue: the full sweep decides
      else results[index] = { askGitlab: 'the payload lacks fields' };
    }
    const written: UpsertOutcome[] = [];
    const notWritten: Array<{ index: number; row: RequirementUpsertRow }> = [];
    for (const round of rounds(rows)) {
      const { outcomes, held } = await this.requirements.upsert(
        sql,
        context,
        round.map((item) => item.row),
        this.hold,
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
      const ambiguous =
        !itemAt(items, index).refetched &&
        sameSecond &&
        record.sync_state === 'synced' &&
        record.connection_id === connection.connection_id &&
        !sameContent(record, row);
      if (ambiguous) results[index] = { askGitlab: 'two changes within the same second' };
      else decided.set(index, 'stale');
    }
  }
}
