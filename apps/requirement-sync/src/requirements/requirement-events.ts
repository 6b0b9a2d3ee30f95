import {
  MAX_UPSERTED_BATCH_BYTES,
  MAX_UPSERTED_BATCH_ITEMS,
  RequirementDeprecated,
  RequirementDetached,
  RequirementUpserted,
  RequirementUpsertedBatch,
  type EventDefinition,
  type RequirementUpsertedV1,
  type RequirementV1,
} from '@testkase/contracts';
import { buildCloudEvent, exceedsEventBudget, type OutboxMessage } from '@testkase/platform';

import { toRequirementV1, type RequirementRecord } from './requirement.record';
import type { UpsertOutcome } from './requirement.repository';

export const EVENT_SOURCE = 'testkase-gitlab/requirement-sync';

/**
 * Largest description (Markdown and HTML together, in UTF-8 bytes once JSON-encoded) an event carries. GitLab allows
 * 1,048,576 characters, NATS 1 MiB per message by default: a larger event could never be published
 * and would hold up the outbox behind it. Above this, the event says `descriptionOmitted`.
 */
export const MAX_EVENT_DESCRIPTION_BYTES = 256 * 1024;

/** The requirement as an event carries it: whole, unless its description is too large for a message. */
export function eventRequirement(record: RequirementRecord): RequirementV1 {
  const requirement = toRequirementV1(record);
  return exceedsEventBudget(
    [record.description_markdown, record.description_html],
    MAX_EVENT_DESCRIPTION_BYTES,
  )
    ? { ...requirement, descriptionHtml: '', descriptionMarkdown: '', descriptionOmitted: true }
    : requirement;
}

/**
 * What the write of this version did besides its changed fields (`replaced`,
 * `droppedPriorityOverride`); a replaced description too large for a message is left out and said so.
 */
export function writeEffectsOf(
  record: RequirementRecord,
): Pick<RequirementUpsertedV1, 'replaced' | 'droppedPriorityOverride'> {
  const effects = record.write_effects;
  if (!effects || effects.version !== record.version) return {};
  const result: Pick<RequirementUpsertedV1, 'replaced' | 'droppedPriorityOverride'> = {};
  if (effects.replaced && Object.keys(effects.replaced).length > 0) {
    const { description, ...rest } = effects.replaced;
    result.replaced =
      description !== undefined && exceedsEventBudget([description], MAX_EVENT_DESCRIPTION_BYTES)
        ? { ...rest, descriptionOmitted: true }
        : effects.replaced;
  }
  if (effects.droppedPriorityOverride) result.droppedPriorityOverride = effects.droppedPriorityOverride;
  return result;
}

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
  options: {
    deprecatedReason?: 'closed' | 'deleted_or_moved';
    /**
     * The `upserted` events of this connection travel as `upserted_batch` messages instead (the
     * backfill; docs/ARCHITECTURE.md, "Events for TestKase core"). The other events stay single.
     */
    batchFor?: string;
  } = {},
): { messages: OutboxMessage[]; counts: ChangeCounts } {
  const messages: OutboxMessage[] = [];
  const batched: RequirementUpsertedV1[] = [];
  const counts: ChangeCounts = { created: 0, updated: 0, deprecated: 0 };
  for (const { record, created } of outcomes) {
    const changed = record.changed_fields;
    const requirement = eventRequirement(record);
    if (created) counts.created += 1;
    else if (changed.length > 0) counts.updated += 1;
    if (created || changed.length > 0) {
      const data: RequirementUpsertedV1 = {
        requirement,
        created,
        changedFields: [...changed],
        ...writeEffectsOf(record),
      };
      if (options.batchFor === undefined) messages.push(message(RequirementUpserted, data, record.id));
      else batched.push(data);
    }
    const becameDeprecated =
      record.status === 'Deprecated' &&
      (changed.includes('status') || options.deprecatedReason === 'deleted_or_moved');
    if (becameDeprecated && !created) {
      counts.deprecated += 1;
      messages.push(
        message(
          RequirementDeprecated,
          { requirement, reason: v1Reason(record.deprecated_reason) ?? options.deprecatedReason ?? 'closed' },
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
  if (options.batchFor !== undefined) messages.unshift(...upsertedBatches(options.batchFor, batched));
  return { messages, counts };
}

/**
 * `items` as `upserted_batch` messages, in order: at most MAX_UPSERTED_BATCH_ITEMS items and
 * MAX_UPSERTED_BATCH_BYTES bytes of item JSON in each (an item larger than that alone goes alone;
 * the outbox's per-event bound still applies to it, as it would to its single event).
 */
export function upsertedBatches(
  connectionId: string,
  items: readonly RequirementUpsertedV1[],
): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  let batch: RequirementUpsertedV1[] = [];
  let bytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    messages.push(message(RequirementUpsertedBatch, { connectionId, items: batch }, connectionId));
    batch = [];
    bytes = 0;
  };
  for (const item of items) {
    // Its JSON in UTF-8 bytes, escapes included, and the comma.
    const size = Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
    if (
      batch.length >= MAX_UPSERTED_BATCH_ITEMS ||
      (batch.length > 0 && bytes + size > MAX_UPSERTED_BATCH_BYTES)
    )
      flush();
    batch.push(item);
    bytes += size;
  }
  flush();
  return messages;
}

/**
 * `testkase.requirement.deprecated` keeps its two v1 reasons: a deleted, moved or retyped issue is
 * `deleted_or_moved`; `requirement.deprecationReason` says which (docs/ARCHITECTURE.md).
 */
function v1Reason(reason: RequirementRecord['deprecated_reason']): 'closed' | 'deleted_or_moved' | null {
  if (reason === null) return null;
  return reason === 'closed' ? 'closed' : 'deleted_or_moved';
}

/** Rows changed by a plain UPDATE (attach, detach, deprecate) carry their own changed_fields. */
export const asOutcomes = (records: readonly RequirementRecord[]): UpsertOutcome[] =>
  records.map((record) => ({ record, created: false }));
