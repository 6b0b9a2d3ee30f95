import { AckPolicy, DeliverPolicy, headers as natsHeaders, type JsMsg, type MsgHdrs } from 'nats';

import { HEADERS, STREAMS } from '@testkase/contracts';
import { AppError, ValidationError } from '@testkase/util';

import type { NatsClient } from '../messaging/nats-client';

/** A dead letter as an operator sees it (docs/ADMIN-API.md, "Dead letters"); the body is left out. */
export interface DeadLetterView {
  /** Its sequence in DEAD_LETTERS: the id to replay it by. */
  sequence: number;
  /** The durable consumer that gave it up (`<app>-<purpose>`). */
  consumer: string;
  originalSubject: string;
  originalStream: string | null;
  originalSequence: number | null;
  originalMsgId: string | null;
  deliveries: number | null;
  code: string;
  error: string;
  eventType: string | null;
  deadLetteredAt: string;
  bytes: number;
}

export interface DeadLetterFilter {
  /** One durable of this service. */
  consumer?: string;
  /** The error code (`x-dead-letter-code`). */
  code?: string;
  /** The original subject: exact, or a NATS pattern with `*` and `>`. */
  subject?: string;
}

export interface DeadLetterPage {
  items: DeadLetterView[];
  /** Pass as `cursor` for the next page; null when the stream holds no more. */
  nextCursor: string | null;
}

export interface ReplayOutcome {
  sequence: number;
  subject: string;
  msgId: string;
}

/** Messages looked at per request at most, whatever the filter (so one request stays short). */
const SCAN_BUDGET = 10_000;
const DEAD_LETTER_PREFIX = 'deadletter.';

/** Whether `subject` matches a NATS pattern (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i += 1) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

const header = (h: MsgHdrs | undefined, name: string): string | null => {
  const value = h?.get(name);
  return value ? value : null;
};
const numberOrNull = (value: string | null): number | null =>
  value !== null && /^\d+$/.test(value) ? Number(value) : null;

/**
 * The DEAD_LETTERS stream (`deadletter.<durable>`, docs/ARCHITECTURE.md "Messaging") as one service
 * sees it: the dead letters of its own durable consumers, listed with paging and a filter, and
 * replayed — republished to the original subject with a new message id (the original id travels
 * in `x-replayed-msg-id`, so the consumers' inboxes still know it) and then removed from the stream.
 */
export class DeadLetterAdmin {
  constructor(
    private readonly nats: NatsClient,
    /** The durables of this service (its ConsumerRegistry). */
    private readonly durables: () => readonly string[],
  ) {}

  private get stream(): string {
    return this.nats.naming.stream(STREAMS.DEAD_LETTERS.name);
  }

  private checkFilter(filter: DeadLetterFilter): void {
    if (filter.consumer !== undefined && !this.durables().includes(filter.consumer)) {
      throw new ValidationError(`consumer ${filter.consumer} is not a consumer of this service`, {
        fields: [{ field: 'consumer', problems: ['must be a consumer of this service'] }],
        consumers: [...this.durables()],
      });
    }
  }

  /** The service's durable of a DEAD_LETTERS subject (prefixed), or null for another service's. */
  private consumerOf(subject: string): string | null {
    const plain = this.nats.naming.unprefix(subject);
    if (!plain.startsWith(DEAD_LETTER_PREFIX)) return null;
    const consumer = plain.slice(DEAD_LETTER_PREFIX.length);
    return this.durables().includes(consumer) ? consumer : null;
  }

  private view(sequence: number, subject: string, h: MsgHdrs | undefined, bytes: number, at: Date) {
    const consumer = this.consumerOf(subject);
    if (!consumer) return null;
    return {
      sequence,
      consumer,
      originalSubject: header(h, HEADERS.deadLetterSubject) ?? '',
      originalStream: header(h, HEADERS.deadLetterStream),
      originalSequence: numberOrNull(header(h, HEADERS.deadLetterSequence)),
      originalMsgId: header(h, HEADERS.deadLetterMsgId),
      deliveries: numberOrNull(header(h, HEADERS.deadLetterDeliveries)),
      code: header(h, HEADERS.deadLetterCode) ?? 'INTERNAL',
      error: header(h, HEADERS.deadLetterError) ?? '',
      eventType: header(h, HEADERS.eventType),
      deadLetteredAt: at.toISOString(),
      bytes,
    } satisfies DeadLetterView;
  }

  private matches(item: DeadLetterView, filter: DeadLetterFilter): boolean {
    if (filter.consumer !== undefined && item.consumer !== filter.consumer) return false;
    if (filter.code !== undefined && item.code !== filter.code) return false;
    if (filter.subject !== undefined && !subjectMatches(filter.subject, item.originalSubject)) return false;
    return true;
  }

  /** The dead letters after `cursor` (a sequence) matching `filter`, oldest first. */
  async list(filter: DeadLetterFilter, cursor: number, limit: number): Promise<DeadLetterPage> {
    this.checkFilter(filter);
    const items: DeadLetterView[] = [];
    const next = await this.scan(filter, cursor, (item) => {
      items.push(item);
      return items.length < limit;
    });
    return { items, nextCursor: next === null ? null : String(next) };
  }

  /**
   * Walks the stream from `cursor` + 1 with an ephemeral consumer, calling `take` for each match
   * until it answers false or the scan budget is spent. Resolves to the cursor to go on from, or
   * null when the stream holds nothing further.
   */
  private async scan(
    filter: DeadLetterFilter,
    cursor: number,
    take: (item: DeadLetterView) => boolean,
  ): Promise<number | null> {
    const jsm = this.nats.jsm;
    const stream = this.stream;
    if (!(await jsm.streams.info(stream).catch(() => null))) return null;
    const info = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: cursor + 1,
      filter_subject: this.nats.naming.subject(
        filter.consumer ? `${DEAD_LETTER_PREFIX}${filter.consumer}` : `${DEAD_LETTER_PREFIX}>`,
      ),
      inactive_threshold: 30_000_000_000,
      mem_storage: true,
    });
    const consumer = await this.nats.js.consumers.get(stream, info.name);
    let pending = info.num_pending;
    let scanned = 0;
    let last = cursor;
    let more = true;
    try {
      while (more && pending > 0 && scanned < SCAN_BUDGET) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 500), expires: 2_000 });
        let got = 0;
        for await (const msg of batch as AsyncIterable<JsMsg>) {
          got += 1;
          if (!more) continue;
          scanned += 1;
          last = msg.seq;
          const item = this.view(
            msg.seq,
            msg.subject,
            msg.headers,
            msg.data.length,
            new Date(Math.floor(msg.info.timestampNanos / 1e6)),
          );
          if (item && this.matches(item, filter) && !take(item)) more = false;
        }
        if (got === 0) break;
        pending = msg0Pending(await consumer.info().catch(() => null));
      }
    } finally {
      await jsm.consumers.delete(stream, info.name).catch(() => undefined);
    }
    return pending > 0 || !more ? last : null;
  }

  /** One dead letter of this service by its sequence (404 for another service's or none). */
  async get(sequence: number): Promise<DeadLetterView & { body: unknown; headers: Record<string, string> }> {
    const stored = await this.load(sequence);
    const item = this.view(stored.seq, stored.subject, stored.header, stored.data.length, stored.time);
    if (!item) throw notFound(sequence);
    const text = Buffer.from(stored.data).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { base64: Buffer.from(stored.data).toString('base64') };
    }
    const headers: Record<string, string> = {};
    for (const [key, values] of stored.header ?? []) headers[key.toLowerCase()] = values[0] ?? '';
    return { ...item, headers, body };
  }

  private async load(sequence: number) {
    try {
      return await this.nats.jsm.streams.getMessage(this.stream, { seq: sequence });
    } catch (error) {
      if (/no message found|not found/i.test(String((error as Error).message))) throw notFound(sequence);
      throw error;
    }
  }

  /** Republishes one dead letter to its original subject and removes it from DEAD_LETTERS. */
  async replay(sequence: number): Promise<ReplayOutcome> {
    const stored = await this.load(sequence);
    const item = this.view(stored.seq, stored.subject, stored.header, stored.data.length, stored.time);
    if (!item) throw notFound(sequence);
    if (!item.originalSubject) {
      throw new AppError(
        'CONFLICT',
        `dead letter ${sequence} names no original subject; it cannot be replayed`,
      );
    }
    const out = natsHeaders();
    for (const [key, values] of stored.header ?? []) {
      const name = key.toLowerCase();
      if (name.startsWith('x-dead-letter-') || name === 'nats-msg-id' || name.startsWith('nats-expected')) {
        continue;
      }
      for (const value of values) out.append(key, value);
    }
    const logical = item.originalMsgId ?? `${item.originalStream ?? 'stream'}:${item.originalSequence ?? 0}`;
    if (!out.has(HEADERS.replayedMsgId)) out.set(HEADERS.replayedMsgId, logical);
    out.set(HEADERS.replayedFrom, String(sequence));
    // A new id: the original may still be inside the stream's dedupe window. Replaying the same
    // dead letter twice at once publishes it once.
    const msgId = `${logical}#replay-${sequence}`;
    await this.nats.js.publish(this.nats.naming.subject(item.originalSubject), stored.data, {
      headers: out,
      msgID: msgId,
      ...(item.originalStream
        ? { expect: { streamName: this.nats.naming.stream(item.originalStream) } }
        : {}),
    });
    await this.nats.jsm.streams.deleteMessage(this.stream, sequence, false).catch((error: unknown) => {
      if (!/no message found|not found/i.test(String((error as Error).message))) throw error;
    });
    return { sequence, subject: item.originalSubject, msgId };
  }

  /** Replays up to `limit` dead letters matching `filter`, oldest first. */
  async replayMatching(
    filter: DeadLetterFilter,
    limit: number,
  ): Promise<{
    replayed: ReplayOutcome[];
    failed: Array<{ sequence: number; error: string }>;
    more: boolean;
  }> {
    this.checkFilter(filter);
    const selected: number[] = [];
    const next = await this.scan(filter, 0, (item) => {
      selected.push(item.sequence);
      return selected.length < limit;
    });
    const replayed: ReplayOutcome[] = [];
    const failed: Array<{ sequence: number; error: string }> = [];
    for (const sequence of selected) {
      try {
        replayed.push(await this.replay(sequence));
      } catch (error) {
        failed.push({ sequence, error: (error as Error).message });
      }
    }
    return { replayed, failed, more: next !== null };
  }
}

function msg0Pending(info: { num_pending: number } | null): number {
  return info?.num_pending ?? 0;
}

const notFound = (sequence: number) =>
  new AppError('NOT_FOUND', `no dead letter ${sequence} of this service`);
