import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ConnectionProjection } from '@testkase/consumer-kit';
import { snapshotFromRestIssue, type GitlabIssue } from '@testkase/gitlab';
import { Outbox, sqlOf, type OutboxMessage } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { SyncMetrics } from '../metrics/sync.metrics';
import { requirementEvents, type ChangeCounts } from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import { RequirementRepository, type DefectHoldSettings } from '../requirements/requirement.repository';

/** A page of REST issues, mapped (the CPU part, done while the previous page is being written). */
export interface MappedPage {
  readonly rows: readonly RequirementUpsertRow[];
  /** Every iid GitLab listed, usable or not. */
  readonly iids: readonly number[];
  readonly listed: number;
  readonly maxUpdatedAt: Date | null;
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
  }

  private readonly hold: DefectHoldSettings;

  map(items: readonly GitlabIssue[], connection: ConnectionRecord): MappedPage {
    const context = projectContextOf(connection);
    const rows: RequirementUpsertRow[] = [];
    const iids: number[] = [];
    let maxUpdatedAt: Date | null = null;
    for (const item of items) {
      if (typeof item.iid === 'number') iids.push(item.iid);
      const snapshot = snapshotFromRestIssue(item);
      if (!snapshot) continue;
      rows.push(toUpsertRow(snapshot, context));
      if (!maxUpdatedAt || snapshot.updatedAt > maxUpdatedAt) maxUpdatedAt = snapshot.updatedAt;
    }
    return { rows, iids, listed: items.length, maxUpdatedAt };
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
    options: { extra?: (counts: ChangeCounts) => OutboxMessage[]; observeLag?: boolean } = {},
  ): Promise<ChangeCounts | null> {
    if (!(await this.stillCurrent(tx, connection))) return null;
    const { outcomes } = await this.requirements.upsert(
      sqlOf(tx),
      projectContextOf(connection),
      rows,
      this.hold,
    );
    const { messages, counts } = requirementEvents(outcomes);
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
