import { createInbox, Events, type Msg, type MsgHdrs, type NatsConnection, type NatsError } from 'nats';

import type { Logger, NatsClient } from '@testkase/platform';

export type PublishOutcome =
  | { readonly ok: true; readonly duplicate: boolean }
  | {
      readonly ok: false;
      /** `too_large`: over the server's max_payload, so retrying cannot help. */
      readonly reason: 'disconnected' | 'timeout' | 'rejected' | 'too_large';
      readonly detail?: string;
    };

interface InFlight {
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly deadline: number;
  /** Written to the connection (else still queued). */
  sent: boolean;
}

interface Queued {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: MsgHdrs;
  readonly token: string;
}

const DISCONNECTED: PublishOutcome = { ok: false, reason: 'disconnected' };
const TIMED_OUT: PublishOutcome = { ok: false, reason: 'timeout' };
const STORED: PublishOutcome = { ok: true, duplicate: false };
const DUPLICATE: PublishOutcome = { ok: true, duplicate: true };

/** A queue this long or this large is written at once, acks outstanding or not. */
const MAX_BATCH_MESSAGES = 64;
const MAX_BATCH_BYTES = 1024 * 1024;
/** Longest a queued publish waits for the outstanding acks before it is written anyway. */
const DEFAULT_MAX_HOLD_MS = 1;

/** `{"stream"` — how a successful PubAck begins; an error reply begins with `{"error"`. */
const ACK_PREFIX = Buffer.from('{"stream"');
const DUPLICATE_KEY = Buffer.from('"duplicate"');

/** Reads a JetStream publish reply without JSON-parsing the common case. */
export function parsePubAck(message: Pick<Msg, 'data' | 'headers'>): PublishOutcome {
  if (message.headers?.hasError) {
    // e.g. 503 "no responders": no stream listens on the subject (yet).
    return { ok: false, reason: 'rejected', detail: message.headers.status };
  }
  const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
  if (data.subarray(0, ACK_PREFIX.length).equals(ACK_PREFIX)) {
    // Servers differ in spacing (2.9 writes `"duplicate": true`): parse only when the key is there.
    if (data.indexOf(DUPLICATE_KEY) < 0) return STORED;
    try {
      return (JSON.parse(data.toString('utf8')) as { duplicate?: boolean }).duplicate === true
        ? DUPLICATE
        : STORED;
    } catch {
      return STORED;
    }
  }
  let detail = data.toString('utf8', 0, Math.min(data.length, 300));
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { error?: { description?: string } };
    detail = parsed.error?.description ?? detail;
  } catch {
    // not JSON: keep the raw text
  }
  return { ok: false, reason: 'rejected', detail };
}

/**
 * Publishes to JetStream and resolves once the stream has acknowledged, tuned for many small
 * concurrent publishes (one per webhook delivery). Where `js.publish` costs most here:
 * - per request it creates an inbox entry, a timer, a promise race and (by default) two Error
 *   objects for async stack traces; this keeps one reply subscription for all acks, one sweep timer
 *   for all timeouts, and parses the common PubAck without JSON.parse;
 * - every publish is its own socket write, and on loopback a write costs as much CPU as the
 *   message is worth, in this process and in the NATS server. Here writes are ack-clocked (Nagle's
 *   rule): with no ack outstanding, what the current event-loop turn queued is written at once;
 *   otherwise publishes wait for the outstanding acks (at most a millisecond, or until a
 *   batch is full) and go out together. Under load, batches grow by themselves and the server
 *   reads them in one go and answers with batched acks; when idle, nothing waits.
 * A publish made while disconnected fails at once instead of waiting in the client's reconnect
 * buffer, and a disconnect fails everything in flight, so that the caller can spool it. A message
 * whose ack was lost may be on the stream already; republishing it with the same Nats-Msg-Id is
 * then deduplicated by JetStream.
 */
export class PipelinedJetStreamPublisher {
  private readonly inFlight = new Map<string, InFlight>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** Messages written whose ack has not come (nor their timeout). */
  private unacked = 0;
  private flushScheduled = false;
  private holdTimer?: NodeJS.Timeout;
  private counter = 0;
  private inbox = '';
  private connection?: NatsConnection;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly nats: NatsClient,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly maxHoldMs = DEFAULT_MAX_HOLD_MS,
  ) {}

  start(): void {
    this.nats.onConnected(() => this.attach());
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(100, this.timeoutMs / 10)));
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.failAll(DISCONNECTED);
  }

  /** Number of publishes waiting for their ack. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** `subject` is the full subject (environment prefix included). */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<PublishOutcome> {
    const nc = this.connection;
    if (!nc || !this.nats.isConnected) return Promise.resolve(DISCONNECTED);
    const maxPayload = nc.info?.max_payload;
    if (maxPayload !== undefined && body.byteLength >= maxPayload) {
      return Promise.resolve({
        ok: false,
        reason: 'too_large',
        detail: `${body.byteLength} bytes; the NATS server's max_payload is ${maxPayload}`,
      });
    }
    this.counter += 1;
    const token = this.counter.toString(36);
    return new Promise<PublishOutcome>((resolve) => {
      this.inFlight.set(token, { resolve, deadline: Date.now() + this.timeoutMs, sent: false });
      this.queue.push({ subject, body, headers, token });
      this.queuedBytes += body.byteLength;
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    if (
      this.unacked === 0 ||
      this.queue.length >= MAX_BATCH_MESSAGES ||
      this.queuedBytes >= MAX_BATCH_BYTES
    ) {
      this.flushScheduled = true;
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
      // After the I/O callbacks of this loop turn: every request read in it joins the batch.
      setImmediate(this.flush);
    } else {
      this.holdTimer ??= setTimeout(this.flush, this.maxHoldMs);
    }
  }

  private attach(): void {
    const nc = this.nats.nc;
    if (this.connection === nc) return;
    this.connection = nc;
    this.inbox = `${createInbox()}.`;
    nc.subscribe(`${this.inbox}*`, { callback: (error, message) => this.onReply(error, message) });
    void this.watchDisconnects(nc);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    const nc = this.connection;
    for (const item of batch) {
      const entry = this.inFlight.get(item.token);
      // Failed meanwhile (disconnect, timeout): the caller has spooled it already.
      if (!entry) continue;
      if (!nc || !this.nats.isConnected) {
        this.settle(item.token, DISCONNECTED);
        continue;
      }
      try {
        nc.publish(item.subject, item.body, { reply: `${this.inbox}${item.token}`, headers: item.headers });
        entry.sent = true;
        this.unacked += 1;
      } catch (error) {
        const code = (error as NatsError).code;
        this.settle(item.token, {
          ok: false,
          reason: code === 'MAX_PAYLOAD_EXCEEDED' ? 'too_large' : 'rejected',
          detail: (error as Error).message,
        });
      }
    }
  };

  private onReply(error: NatsError | null, message: Msg): void {
    if (error) {
      this.logger.warn({ err: error }, 'JetStream ack subscription failed');
      return;
    }
    const token = message.subject.slice(this.inbox.length);
    this.settle(token, parsePubAck(message));
  }

  private settle(token: string, outcome: PublishOutcome): void {
    const entry = this.inFlight.get(token);
    if (!entry) return; // timed out or failed before the ack came
    this.inFlight.delete(token);
    this.forget(entry);
    entry.resolve(outcome);
  }

  private forget(entry: InFlight): void {
    if (!entry.sent) return;
    this.unacked -= 1;
    if (this.unacked === 0) this.scheduleFlush();
  }

  /** Entries are in publish order, so their deadlines are too: stop at the first one still open. */
  private expire(): void {
    const now = Date.now();
    for (const [token, entry] of this.inFlight) {
      if (entry.deadline > now) break;
      this.inFlight.delete(token);
      this.forget(entry);
      entry.resolve(TIMED_OUT);
    }
  }

  private failAll(outcome: PublishOutcome): void {
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    this.unacked = 0;
    for (const entry of entries) entry.resolve(outcome);
  }

  private async watchDisconnects(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) this.failAll(DISCONNECTED);
    }
  }
}
