import { assertIdentifier } from '../database/data-source.factory';
import type { Sql } from '../database/sql';
import { outboxChannel, stagedOutboxRow, type OutboxMessage } from './outbox';

/**
 * The write every consumer makes with its effect, in the effect's transaction: claim the inbound
 * event ids in the inbox (a redelivery or replay is then a no-op) and stage the outbound events in
 * the outbox with the NOTIFY its relay listens for — one statement, one round trip, for a batch of
 * events as for one. The rows are those {@link Inbox.claim} and {@link Outbox.addMany} write.
 */
export class InboxOutbox {
  private readonly statement: string;
  private readonly statementName: string;
  private readonly channel: string;

  constructor(schema: string) {
    const s = `"${assertIdentifier(schema)}"`;
    this.channel = outboxChannel(schema);
    this.statementName = `${schema}_claim_and_stage_v2`;
    this.statement = `
      WITH claimed AS (
        INSERT INTO ${s}.inbox (consumer, event_id)
        SELECT $1, event_id FROM unnest($2::text[]) AS event_id
        ON CONFLICT DO NOTHING RETURNING event_id
      ), staged AS (
        INSERT INTO ${s}.outbox (event_id, subject, headers, payload, traceparent, tracestate)
        SELECT o.event_id, o.subject, o.headers, o.payload, o.traceparent, o.tracestate
          FROM jsonb_to_recordset($3::jsonb)
            AS o(event_id uuid, subject text, headers jsonb, payload text, traceparent text, tracestate text)
        RETURNING 1
      )
      SELECT ARRAY(SELECT event_id FROM claimed) AS claimed,
             CASE WHEN EXISTS (SELECT 1 FROM staged) THEN pg_notify($4, '') END AS notified`;
  }

  /**
   * Claims `eventIds` for `consumer` and stages `messages`. Resolves to the ids claimed now (those
   * not in the set were seen before: the caller treats them as duplicates). The caller stages only
   * the events of claimed ids, or decides in the same transaction what a duplicate means.
   */
  async claimAndStage(
    sql: Sql,
    consumer: string,
    eventIds: readonly string[],
    messages: readonly OutboxMessage[],
  ): Promise<Set<string>> {
    if (eventIds.length === 0 && messages.length === 0) return new Set();
    // Refuses an event too large to publish (PAYLOAD_TOO_LARGE), as Outbox.addMany does.
    const staged = messages.map(stagedOutboxRow);
    const [row] = await sql.rows<{ claimed: string[] }>(
      this.statement,
      [consumer, eventIds, JSON.stringify(staged), this.channel],
      this.statementName,
    );
    return new Set(row?.claimed ?? []);
  }
}
