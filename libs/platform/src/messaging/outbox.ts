import { randomUUID } from 'node:crypto';

import type { EntityManager } from 'typeorm';

import { HEADERS, type CloudEvent, type EventDefinition } from '@testkase/contracts';
import { AppError } from '@testkase/util';

import { assertIdentifier } from '../database/data-source.factory';
import { traceContextOf } from '../telemetry/tracing';
import { buildCloudEvent } from './event-publisher';

export interface OutboxMessage {
  /** Subject without the environment prefix. */
  subject: string;
  event: CloudEvent;
  headers?: Record<string, string>;
}

/**
 * Largest event the outbox stages: its CloudEvent JSON and its NATS headers together, in UTF-8 bytes.
 * NATS refuses a message over the server's `max_payload` (1 MiB by default), and such a row could
 * never be published. Events are bounded where they are built (descriptions and bodies over 256 KiB
 * travel as `descriptionOmitted` / `bodyOmitted`, docs/ARCHITECTURE.md); this is the backstop, with
 * room below 1 MiB for the trace headers the relay adds.
 */
export const MAX_OUTBOX_EVENT_BYTES = 768 * 1024;

/**
 * Whether `texts` together take more than `budget` bytes inside an event: their UTF-8 bytes once
 * JSON-encoded, escapes included (a control character becomes `\u00XX`, six bytes for one, so a
 * 256 KiB description of them is 1.5 MiB on the wire). Event builders use it to decide what to leave
 * out; it measures exactly only when the raw size could be over the budget.
 */
export function exceedsEventBudget(texts: readonly string[], budget: number): boolean {
  let raw = 0;
  for (const text of texts) raw += Buffer.byteLength(text, 'utf8');
  if (raw > budget) return true;
  if (raw * 6 <= budget) return false;
  let encoded = 0;
  for (const text of texts) encoded += Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
  return encoded > budget;
}

/** One outbox row as it is written. */
export interface StagedOutboxRow {
  event_id: string;
  subject: string;
  headers: Record<string, string>;
  payload: string;
  /**
   * W3C trace context of the work that staged the row (the span active at staging), null without
   * one: the relay's producer span is its child, so the event stays in that work's trace.
   */
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * The row of `message`, refused when it is larger than {@link MAX_OUTBOX_EVENT_BYTES}: a permanent
 * `PAYLOAD_TOO_LARGE` that rolls back the caller's transaction (a consumer dead-letters the
 * inbound message, an HTTP caller gets 413), instead of a row that would fail at every publish.
 * Refused rather than shrunk: only the event's builder knows which field may be left out.
 */
export function stagedOutboxRow(message: OutboxMessage): StagedOutboxRow {
  const eventId = message.event.id ?? randomUUID();
  const headers = {
    [HEADERS.eventType]: message.event.type,
    [HEADERS.eventId]: message.event.id,
    ...message.headers,
  };
  const payload = JSON.stringify(message.event);
  const bytes = Buffer.byteLength(payload, 'utf8') + Buffer.byteLength(JSON.stringify(headers), 'utf8');
  if (bytes > MAX_OUTBOX_EVENT_BYTES) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `event ${message.event.type} is ${bytes} bytes, more than the ${MAX_OUTBOX_EVENT_BYTES} an event may have`,
      {
        details: {
          subject: message.subject,
          type: message.event.type,
          eventId,
          bytes,
          limit: MAX_OUTBOX_EVENT_BYTES,
        },
      },
    );
  }
  return { event_id: eventId, subject: message.subject, headers, payload, ...traceContextOf() };
}

/** The NOTIFY channel a schema's relay listens on. */
export const outboxChannel = (schema: string) => `outbox_${assertIdentifier(schema)}`;

/**
 * Writes events in the caller's transaction (no dual writes): they are published by the
 * {@link OutboxRelay} only once that transaction commits, and never if it rolls back.
 */
export class Outbox {
  private readonly table: string;
  private readonly channel: string;

  constructor(
    schema: string,
    private readonly source: string,
  ) {
    this.table = `"${assertIdentifier(schema)}".outbox`;
    this.channel = outboxChannel(schema);
  }

  /** Wraps `data` in a CloudEvent of `definition` and stages it. Returns the event. */
  async add<T>(
    tx: EntityManager,
    definition: EventDefinition<T>,
    data: T,
    options: { subject?: string; headers?: Record<string, string>; id?: string } = {},
  ): Promise<CloudEvent<T>> {
    const event = buildCloudEvent(this.source, definition, data, {
      subject: options.subject,
      id: options.id,
    });
    await this.addMany(tx, [{ subject: definition.subject, event, headers: options.headers }]);
    return event;
  }

  /**
   * Stages many messages in one statement (batched upserts stage their events the same way).
   * @throws AppError `PAYLOAD_TOO_LARGE` for an event over {@link MAX_OUTBOX_EVENT_BYTES}.
   */
  async addMany(tx: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ids: string[] = [];
    const subjects: string[] = [];
    const headers: string[] = [];
    const payloads: string[] = [];
    const traceparents: Array<string | null> = [];
    const tracestates: Array<string | null> = [];
    for (const message of messages) {
      const row = stagedOutboxRow(message);
      ids.push(row.event_id);
      subjects.push(row.subject);
      headers.push(JSON.stringify(row.headers));
      payloads.push(row.payload);
      traceparents.push(row.traceparent);
      tracestates.push(row.tracestate);
    }
    await tx.query(
      `INSERT INTO ${this.table} (event_id, subject, headers, payload, traceparent, tracestate)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[])`,
      [ids, subjects, headers, payloads, traceparents, tracestates],
    );
    // Delivered to listeners only when (and if) the transaction commits; repeated notifies collapse.
    await tx.query('SELECT pg_notify($1, $2)', [this.channel, '']);
  }
}
