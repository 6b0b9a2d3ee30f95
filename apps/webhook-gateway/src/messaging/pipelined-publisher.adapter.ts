import { createInbox, Events, MsgHdrsImpl, type Msg, type NatsConnection, type NatsError } from 'nats';

import type { Logger, NatsClient } from '@testkase/platform';

export type PublishOutcome =
  | { readonly ok: true; readonly duplicate: boolean }
  | {
      readonly ok: false;
      /** `too_large`: over the server's max_payload, so retrying cannot help. */
      readonly reason: 'disconnected' | 'timeout' | 'rejected' | 'too_large';
      readonly detail?: string;
    };

export type PublishCallback = (outcome: PublishOutcome) => void;

interface InFlight {
  readonly done: PublishCallback;
  readonly deadline: number;
  /** Written to the socket (not just queued): counted in `unacked` until it settles. */
  written: boolean;
}

interface Queued {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: MessageHeaders;
  readonly token: string;
}

const DISCONNECTED: PublishOutcome = { ok: false, reason: 'disconnected' };
const TIMED_OUT: PublishOutcome = { ok: false, reason: 'timeout' };
const STORED: PublishOutcome = { ok: true, duplicate: false };
const DUPLICATE: PublishOutcome = { ok: true, duplicate: true };

/** `{"stream"` — how a successful PubAck begins; an error reply begins with `{"error"`. */
const ACK_PREFIX = Buffer.from('{"stream"');
const DUPLICATE_KEY = Buffer.from('"duplicate"');
const LINE_BREAK = /[\r\n]/;

/** Longest a publish is held back while the previous write's acks are outstanding (group commit). */
export const HOLD_MS = 1;
/** Queued body bytes that end a hold at once (the NATS client writes 32 KiB at a time anyway). */
export const HOLD_MAX_BYTES = 64 * 1024;

/**
 * NATS message headers encoded once, when they are built: the client only ever calls `encode()`
 * on the headers of a publish, and the generic implementation rebuilds a Map and a string for it.
 */
export class MessageHeaders extends MsgHdrsImpl {
  private readonly bytes: Uint8Array;

  /** Values must not contain line breaks (HTTP header values cannot). */
  constructor(readonly record: Readonly<Record<string, string>>) {
    super();
    let block = 'NATS/1.0\r\n';
    for (const name in record) {
      const value = record[name] as string;
      if (LINE_BREAK.test(value)) throw new Error(`header ${name} contains a line break`);
      block += `${name}: ${value}\r\n`;
    }
    this.bytes = Buffer.from(`${block}\r\n`, 'utf8');
  }

  override encode(): Uint8Array {
    return this.bytes;
  }
}

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
 * Publishes to JetStream and reports once the stream has acknowledged, tuned for many small
 * concurrent publishes (one per webhook delivery). Where `js.publish` spends its time here, and
 * what this does instead:
 * - per request it creates an inbox entry, a timer, a promise race and (by default) two Error
 *   objects for async stack traces, and builds its headers through a Map; this keeps one reply
 *   subscription for all acks, one sweep timer for all timeouts, takes headers encoded once, calls
 *   back without promises and reads the common PubAck without JSON.parse;
 * - every publish is its own socket write, and on loopback a write costs about as much CPU as the
 *   message, here and in the NATS server; publishes made while handling the requests of one
 *   event-loop turn are written together (on `setImmediate`, after that turn's I/O callbacks), so
 *   the server reads them in one go and answers with batched acks;
 * - group commit: while the acks of the last write are outstanding, new publishes wait for them
 *   (at most {@link HOLD_MS} ms, or until {@link HOLD_MAX_BYTES} are queued) and go out together
 *   when the last ack comes back. The server is busy with that write meanwhile, so nothing is
 *   stored later than it would be, and the writes (and the server's reads and acks) are fewer: at
 *   10 connections about 5 publishes a write instead of about 2 (bench/RESULTS.md). A lone
 *   publish (nothing outstanding) is written at once.
 * A publish made while disconnected fails at once instead of waiting in the client's reconnect
 * buffer, and a disconnect fails everything in flight, so that the caller can spool it. A message
 * whose ack was lost may be on the stream already; republishing it with the same Nats-Msg-Id is
 * then deduplicated by JetStream.
 */
export class PipelinedJetStreamPublisher {
  private readonly inFlight = new Map<string, InFlight>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** `held`: waiting for the outstanding acks or the hold timer; `soon`: on setImmediate. */
  private flushScheduled: 'no' | 'held' | 'soon' = 'no';
  private holdTimer?: NodeJS.Timeout;
  /** Publishes written whose acks have not come back. */
  private unacked = 0;
  private counter = 0;
  private inbox = '';
  private connection?: NatsConnection;
  private sweeper?: NodeJS.Timeout;
  /** The server's max_payload as last seen, so that a body over it is known too large while NATS is down. */
  private maxPayload?: number;

  constructor(
    private readonly nats: NatsClient,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /** How long a hold lasts at most ({@link HOLD_MS}; longer only in tests, to see a hold end by its ack). */
    private readonly holdMs = HOLD_MS,
  ) {}

  start(): void {
    this.nats.onConnected(() => this.attach());
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(100, this.timeoutMs / 10)));
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    clearTimeout(this.holdTimer);
    this.failAll(DISCONNECTED);
  }

  /** Number of publishes waiting for their ack. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** `subject` is the full subject (environment prefix included); `done` is called exactly once. */
  publish(subject: string, body: Uint8Array, headers: MessageHeaders, done: PublishCallback): void {
    const nc = this.connection;
    const connected = nc !== undefined && this.nats.isConnected;
    if (connected && nc.info?.max_payload !== undefined) this.maxPayload = nc.info.max_payload;
    const maxPayload = this.maxPayload;
    // Checked first: a body parked now counts against the parking quota, while one spooled as
    // pending while NATS is down would be parked by the relay later, past the quota.
    if (maxPayload !== undefined && body.byteLength >= maxPayload) {
      done({
        ok: false,
        reason: 'too_large',
        detail: `${body.byteLength} bytes; the NATS server's max_payload is ${maxPayload}`,
      });
      return;
    }
    if (!connected) {
      done(DISCONNECTED);
      return;
    }
    this.counter += 1;
    const token = this.counter.toString(36);
    this.inFlight.set(token, { done, deadline: Date.now() + this.timeoutMs, written: false });
    this.queue.push({ subject, body, headers, token });
    this.queuedBytes += body.byteLength;
    if (this.flushScheduled === 'no') {
      if (this.unacked > 0) {
        this.flushScheduled = 'held';
        this.holdTimer = setTimeout(this.flush, this.holdMs);
      } else {
        this.flushSoon();
      }
    } else if (this.flushScheduled === 'held' && this.queuedBytes >= HOLD_MAX_BYTES) {
      this.flushSoon();
    }
  }

  /** Flush after this event-loop turn's I/O callbacks (ends a hold). */
  private flushSoon(): void {
    clearTimeout(this.holdTimer);
    this.flushScheduled = 'soon';
    setImmediate(this.flush);
  }

  /** {@link publish} as a promise (for callers off the request path). */
  publishAsync(subject: string, body: Uint8Array, headers: MessageHeaders): Promise<PublishOutcome> {
    return new Promise((resolve) => this.publish(subject, body, headers, resolve));
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
    // Twice for one batch (a hold ended while its timer fired): the second finds it empty.
    clearTimeout(this.holdTimer);
    this.flushScheduled = 'no';
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
        entry.written = true;
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
    this.settle(message.subject.slice(this.inbox.length), parsePubAck(message));
  }

  private settle(token: string, outcome: PublishOutcome): void {
    const entry = this.inFlight.get(token);
    if (!entry) return; // timed out or failed before the ack came
    this.forget(token, entry);
    entry.done(outcome);
  }

  /** Removes a settled publish; the last outstanding ack ends a hold. */
  private forget(token: string, entry: InFlight): void {
    this.inFlight.delete(token);
    if (!entry.written) return;
    this.unacked -= 1;
    if (this.unacked === 0 && this.flushScheduled === 'held') this.flushSoon();
  }

  /** Entries are in publish order, so their deadlines are too: stop at the first one still open. */
  private expire(): void {
    const now = Date.now();
    for (const [token, entry] of this.inFlight) {
      if (entry.deadline > now) break;
      this.forget(token, entry);
      entry.done(TIMED_OUT);
    }
  }

  private failAll(outcome: PublishOutcome): void {
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    this.unacked = 0;
    for (const entry of entries) entry.done(outcome);
  }

  private async watchDisconnects(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) this.failAll(DISCONNECTED);
    }
  }
}
