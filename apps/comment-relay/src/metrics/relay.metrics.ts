import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';

import { MetricsRegistry } from '@testkase/platform';

/** Outcomes of one GitLab note event for comment-relay. */
export type NoteEventOutcome =
  | 'relayed'
  | 'edited'
  | 'unchanged'
  | 'stale'
  | 'duplicate'
  | 'echo'
  | 'system'
  | 'not_ours'
  | 'connection_inactive'
  | 'rejected';

/** The metrics of comment-relay (names prefixed `comment_relay_`). */
@Injectable()
export class RelayMetrics {
  readonly writes: Counter<'kind' | 'op'>;
  readonly events: Counter<'outcome'>;
  readonly reconciliations: Counter<'kind' | 'result'>;
  readonly repairs: Counter<'what'>;

  constructor(registry: MetricsRegistry) {
    this.writes = registry.counter('comment_relay_gitlab_writes_total', 'Note writes to GitLab', [
      'kind',
      'op',
    ]);
    this.events = registry.counter('comment_relay_note_events_total', 'GitLab note events by outcome', [
      'outcome',
    ]);
    this.reconciliations = registry.counter('comment_relay_reconciliations_total', 'Sweeps of notes', [
      'kind',
      'result',
    ]);
    this.repairs = registry.counter('comment_relay_repairs_total', 'What sweeps repaired', ['what']);
  }
}
