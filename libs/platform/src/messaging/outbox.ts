import { randomUUID } from 'node:crypto';

import type { EntityManager } from 'typeorm';

import { HEADERS, type CloudEvent, type EventDefinition } from '@testkase/contracts';

import { assertIdentifier } from '../database/data-source.factory';
import { buildCloudEvent } from './event-publisher';

export interface OutboxMessage {
  /** Subject without the environment prefix. */
  subject: string;
  event: CloudEvent;
  headers?: Record<string, string>;
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

  /** Stages many messages in one statement (batched upserts stage their events the same way). */
  async addMany(tx: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const ids: string[] = [];
    const subjects: string[] = [];
    const headers: string[] = [];
    const payloads: string[] = [];
    for (const message of messages) {
      ids.push(message.event.id ?? randomUUID());
      subjects.push(message.subject);
      headers.push(
        JSON.stringify({
          [HEADERS.eventType]: message.event.type,
          [HEADERS.eventId]: message.event.id,
          ...message.headers,
        }),
      );
      payloads.push(JSON.stringify(message.event));
    }
    await tx.query(
      `INSERT INTO ${this.table} (event_id, subject, headers, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[])`,
      [ids, subjects, headers, payloads],
    );
    // Delivered to listeners only when (and if) the transaction commits; repeated notifies collapse.
    await tx.query('SELECT pg_notify($1, $2)', [this.channel, '']);
  }
}
