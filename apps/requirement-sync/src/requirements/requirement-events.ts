import {
  RequirementDeprecated,
  RequirementDetached,
  RequirementUpserted,
  type EventDefinition,
} from '@testkase/contracts';
import { buildCloudEvent, type OutboxMessage } from '@testkase/platform';

import { toRequirementV1, type RequirementRecord } from './requirement.record';
import type { UpsertOutcome } from './requirement.repository';

export const EVENT_SOURCE = 'testkase-gitlab/requirement-sync';

function message<T>(definition: EventDefinition<T>, data: T, subject: string): OutboxMessage {
  return { subject: definition.subject, event: buildCloudEvent(EVENT_SOURCE, definition, data, { subject }) };
}

/** Counts of what a batch changed (reconciliation reports, metrics). */
export interface ChangeCounts {
  created: number;
  updated: number;
  deprecated: number;
}

/**
 * Events for written rows: `upserted` for every created or changed requirement (never for one
 * that only moved forward in time unchanged), plus `deprecated` when its status became
 * Deprecated and `detached` when its sync state became detached.
 */
export function requirementEvents(
  outcomes: readonly UpsertOutcome[],
  options: { deprecatedReason?: 'closed' | 'deleted_or_moved' } = {},
): { messages: OutboxMessage[]; counts: ChangeCounts } {
  const messages: OutboxMessage[] = [];
  const counts: ChangeCounts = { created: 0, updated: 0, deprecated: 0 };
  for (const { record, created } of outcomes) {
    const changed = record.changed_fields;
    const requirement = toRequirementV1(record);
    if (created) counts.created += 1;
    else if (changed.length > 0) counts.updated += 1;
    if (created || changed.length > 0) {
      messages.push(
        message(RequirementUpserted, { requirement, created, changedFields: [...changed] }, record.id),
      );
    }
    const becameDeprecated =
      record.status === 'Deprecated' &&
      (changed.includes('status') || options.deprecatedReason === 'deleted_or_moved');
    if (becameDeprecated && !created) {
      counts.deprecated += 1;
      messages.push(
        message(
          RequirementDeprecated,
          { requirement, reason: record.deprecated_reason ?? options.deprecatedReason ?? 'closed' },
          record.id,
        ),
      );
    }
    if (changed.includes('syncState') && record.sync_state === 'detached') {
      messages.push(
        message(RequirementDetached, { requirement, connectionId: record.connection_id ?? '' }, record.id),
      );
    }
  }
  return { messages, counts };
}

/** Rows changed by a plain UPDATE (attach, detach, deprecate) carry their own changed_fields. */
export const asOutcomes = (records: readonly RequirementRecord[]): UpsertOutcome[] =>
  records.map((record) => ({ record, created: false }));
