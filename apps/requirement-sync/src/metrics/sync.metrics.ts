import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';

import { MetricsRegistry } from '@testkase/platform';

/** Outcomes of one GitLab issue event. */
export type IssueEventOutcome =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'stale'
  | 'duplicate'
  | 'refetched'
  | 'defect_skipped'
  | 'defect_held'
  | 'work_item_skipped'
  | 'retyped'
  | 'connection_inactive'
  | 'rejected';

/** The metrics of ARCHITECTURE.md for requirement-sync (names prefixed `requirement_sync_`). */
@Injectable()
export class SyncMetrics {
  readonly backfillsRunning: Gauge;
  readonly backfillImported: Gauge;
  readonly backfillExpected: Gauge;
  readonly backfillIssues: Counter;
  readonly events: Counter<'outcome'>;
  readonly workItemsSkipped: Counter<'type'>;
  readonly reconciliationRepairs: Counter<'kind' | 'repair'>;
  readonly reconciliations: Counter<'kind' | 'result'>;
  readonly lag: Histogram<'source'>;
  readonly gitlabErrors: Counter<'code'>;
  readonly refetches: Counter<'reason'>;
  readonly refetchesShared: Counter<'via'>;
  readonly deletionChecks: Counter<'result'>;
  private readonly running = new Map<string, { imported: number; expected: number }>();

  constructor(registry: MetricsRegistry) {
    // No label per connection (bounded cardinality, docs/ARCHITECTURE.md, "Telemetry"): the
    // progress of one connection's backfill is in its logs and the connection's backfill state.
    this.backfillsRunning = registry.gauge(
      'requirement_sync_backfills_running',
      'Backfills running in this replica',
      [],
      (gauge) => gauge.set(this.running.size),
    );
    this.backfillImported = registry.gauge(
      'requirement_sync_backfill_imported',
      'Issues imported so far by the backfills running in this replica (all connections)',
      [],
      (gauge) => gauge.set(this.sumOfRunning('imported')),
    );
    this.backfillExpected = registry.gauge(
      'requirement_sync_backfill_expected',
      'Issues the backfills running in this replica expect (upper bound: highest iid; all connections)',
      [],
      (gauge) => gauge.set(this.sumOfRunning('expected')),
    );
    this.backfillIssues = registry.counter(
      'requirement_sync_backfill_issues_total',
      'Issues read by backfills',
    );
    this.events = registry.counter('requirement_sync_issue_events_total', 'GitLab issue events by outcome', [
      'outcome',
    ]);
    this.workItemsSkipped = registry.counter(
      'requirement_sync_work_items_skipped_total',
      'Work item events of other types than Issue (not requirements), by type',
      ['type'],
    );
    this.reconciliationRepairs = registry.counter(
      'requirement_sync_reconciliation_repairs_total',
      'Requirements a sweep created, updated or deprecated because an event had been missed',
      ['kind', 'repair'],
    );
    this.reconciliations = registry.counter('requirement_sync_reconciliations_total', 'Sweeps run', [
      'kind',
      'result',
    ]);
    this.lag = registry.histogram(
      'requirement_sync_lag_seconds',
      "From GitLab's updated_at to the commit of the requirement",
      ['source'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    );
    this.gitlabErrors = registry.counter('requirement_sync_gitlab_errors_total', 'GitLab calls that failed', [
      'code',
    ]);
    this.refetches = registry.counter(
      'requirement_sync_refetches_total',
      'Issues read again from GitLab because an event or a listing could not be ordered, by reason',
      ['reason'],
    );
    this.refetchesShared = registry.counter(
      'requirement_sync_refetches_shared_total',
      "Events that needed GitLab's answer and were settled without a read of their own: by a read made after they arrived here (flight) or on another replica (replica), or by the state stored meanwhile (stored)",
      ['via'],
    );
    this.deletionChecks = registry.counter(
      'requirement_sync_deletion_checks_total',
      'Deletion checks run (issues_statistics per 100 iids), by result',
      ['result'],
    );
  }

  /** Progress of the backfill of `connectionId` (`expected` unchanged when not given). */
  backfillProgress(connectionId: string, imported: number, expected?: number | null): void {
    const entry = this.running.get(connectionId);
    this.running.set(connectionId, {
      imported,
      expected: expected ?? entry?.expected ?? imported,
    });
  }

  private sumOfRunning(field: 'imported' | 'expected'): number {
    let sum = 0;
    for (const entry of this.running.values()) sum += entry[field];
    return sum;
  }

  /** The backfill of `connectionId` stopped (done, failed, aborted): it no longer counts. */
  backfillEnded(connectionId: string): void {
    this.running.delete(connectionId);
  }

  observeLag(source: 'webhook' | 'rest', gitlabUpdatedAt: Date): void {
    const seconds = (Date.now() - gitlabUpdatedAt.getTime()) / 1000;
    if (seconds >= 0) this.lag.observe({ source }, seconds);
  }
}
