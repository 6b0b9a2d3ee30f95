import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';

import { MetricsRegistry } from '@testkase/platform';

/** Outcomes of one GitLab issue event for defect-sync. */
export type DefectEventOutcome =
  | 'applied'
  | 'unchanged'
  | 'stale'
  | 'duplicate'
  | 'not_ours'
  | 'refetched'
  | 'connection_inactive'
  | 'rejected';

/** Outcomes of one push attempt. */
export type PushOutcome = 'created' | 'found_by_marker' | 'failed' | 'retry' | 'waiting_for_token';

/** The metrics of defect-sync (names prefixed `defect_sync_`). */
@Injectable()
export class DefectMetrics {
  readonly pushes: Counter<'outcome'>;
  readonly pushSeconds: Histogram;
  readonly gitlabWrites: Counter<'kind'>;
  readonly writeFailures: Counter<'code'>;
  readonly events: Counter<'outcome'>;
  readonly changesToTestkase: Counter<'field'>;
  readonly reconciliations: Counter<'kind' | 'result'>;

  constructor(registry: MetricsRegistry) {
    this.pushes = registry.counter('defect_sync_push_attempts_total', 'Push attempts by outcome', [
      'outcome',
    ]);
    this.pushSeconds = registry.histogram(
      'defect_sync_push_seconds',
      'From a push request to the GitLab issue recorded',
      [],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    );
    this.gitlabWrites = registry.counter('defect_sync_gitlab_writes_total', 'Writes sent to GitLab by kind', [
      'kind',
    ]);
    this.writeFailures = registry.counter(
      'defect_sync_gitlab_write_failures_total',
      'GitLab writes that failed, by error code',
      ['code'],
    );
    this.events = registry.counter('defect_sync_issue_events_total', 'GitLab issue events by outcome', [
      'outcome',
    ]);
    this.changesToTestkase = registry.counter(
      'defect_sync_changes_to_testkase_total',
      'GitLab changes of pushed issues reported to TestKase, by field',
      ['field'],
    );
    this.reconciliations = registry.counter('defect_sync_reconciliations_total', 'Sweeps of pushed issues', [
      'kind',
      'result',
    ]);
  }
}
