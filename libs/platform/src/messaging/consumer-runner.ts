import { headers as natsHeaders, type ConsumerMessages, type JsMsg } from 'nats';

import { deadLetterSubject, HEADERS } from '@testkase/contracts';
import {
  isAppError,
  jitteredBackoff,
  Semaphore,
  sleep,
  TransientError,
  ValidationError,
  withTimeout,
} from '@testkase/util';

import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { withConsumerSpan } from '../telemetry/tracing';
import { isConnectionFailure } from './connection-failure';
import { headersToRecord } from './event-publisher';
import { DEFAULT_ACK_WAIT_MS, ensureConsumer, type ConsumerDefinition } from './jetstream-setup';
import type { NatsClient } from './nats-client';

/** One message as a handler sees it: the subject without the environment prefix, headers as a record. */
export interface InboundMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Nats-Msg-Id, when the publisher set one; for a replayed dead letter the original message's id
   * (`x-replayed-msg-id`), so that the inbox key of a message stays the same through a replay.
   */
  readonly msgId: string | undefined;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly streamSequence: number;
  /**
   * Aborted when the message has been worked on for the consumer's `maxWorkMs`: the runner then
   * gives the message up for a later delivery (a transient failure), so a handler that waits on
   * GitLab should pass it on and stop. `signal.reason` is the {@link TransientError} that says so.
   */
  readonly signal: AbortSignal;
  /** Parses the body as JSON; a body that is not JSON is a permanent failure. */
  json<T = unknown>(): T;
}

export type MessageHandler = (message: InboundMessage) => Promise<void>;

/**
 * Thrown by a handler to keep a message for later without counting it as a failure: the runner
 * naks it with a growing delay (up to 30 s) and never dead-letters it for being held, however often
 * (a paused connection's webhook events; docs/ADMIN-API.md, "Pause and resume"). A failure because
 * a server the handler needs is unreachable (isConnectionFailure: Postgres restarting) is held the
 * same way, so the server's delivery limit of every consumer is off and the runner counts.
 */
export class HoldMessage extends TransientError {
  constructor(message: string) {
    super(message);
    this.name = 'HoldMessage';
  }
}

/** Delay before a held message comes back after its `holds`-th hold (1-based). */
export const holdDelayMs = (holds: number): number => Math.min(30_000, 1_000 * 2 ** Math.min(holds - 1, 5));

/** Held messages whose holds this process remembers at most (beyond, the oldest are forgotten). */
const MAX_TRACKED_HOLDS = 50_000;

export interface ConsumerOptions extends ConsumerDefinition {
  handler: MessageHandler;
  /** Handlers running at once. */
  concurrency?: number;
  /** Delay before redelivery after a transient failure on delivery `n` (1-based). */
  retryDelayMs?: (deliveryCount: number) => number;
  /**
   * The longest one delivery may be worked on (default {@link DEFAULT_MAX_WORK_MS}). While the
   * handler runs, the runner tells JetStream every third of `ackWaitMs` that it is still working
   * (`working()`), so a handler slower than the ack wait (GitLab's `Retry-After: 60`) is not
   * redelivered to another replica meanwhile; at `maxWorkMs` the message's `signal` aborts and the
   * delivery counts as a transient failure (redelivered later, dead-lettered on the last one).
   */
  maxWorkMs?: number;
  /**
   * Period of the consumer-info sample behind `nats_consumer_pending_messages` and its siblings
   * (default {@link DEFAULT_LAG_SAMPLE_MS}); one JetStream API request per period, off the hot path.
   */
  lagSampleMs?: number;
}

/** Default period of the consumer lag sample (see {@link ConsumerOptions.lagSampleMs}). */
export const DEFAULT_LAG_SAMPLE_MS = 15_000;

/** Default bound of the work on one delivery (see {@link ConsumerOptions.maxWorkMs}). */
export const DEFAULT_MAX_WORK_MS = 5 * 60_000;

export type Outcome = 'ack' | 'nak' | 'term';

const defaultRetryDelay = (deliveryCount: number) => jitteredBackoff(deliveryCount, 500, 30_000, 250);

function toInbound(msg: JsMsg, unprefix: (subject: string) => string, signal: AbortSignal): InboundMessage {
  const headers = headersToRecord(msg.headers);
  return {
    signal,
    subject: unprefix(msg.subject),
    data: msg.data,
    headers,
    msgId: headers[HEADERS.replayedMsgId] || headers['nats-msg-id'],
    deliveryCount: msg.info.redeliveryCount,
    streamSequence: msg.seq,
    json<T>() {
      try {
        return JSON.parse(Buffer.from(msg.data).toString('utf8')) as T;
      } catch (error) {
        throw new ValidationError(`message body is not JSON: ${(error as Error).message}`);
      }
    },
  };
}

/**
 * Runs a durable pull consumer: explicit ack on success, nak with a delay on a transient failure,
 * and on a permanent failure — or on the last allowed delivery — the message goes to
 * `deadletter.<durable>` with its error and is terminated, so a poison message never blocks the rest.
 */
export class JetStreamConsumer {
  private readonly slots: Semaphore;
  private messages?: ConsumerMessages;
  private stopping = false;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly maxDeliver: number;
  private readonly maxWorkMs: number;
  private readonly heartbeatMs: number;
  private readonly outcomes;
  private readonly duration;
  private readonly redelivered;
  private readonly lagGauges;
  private lagTimer?: NodeJS.Timeout;
  /** Stream sequence → times this process held it (deducted from its delivery count). */
  private readonly holds = new Map<number, number>();

  constructor(
    private readonly nats: NatsClient,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.slots = new Semaphore(options.concurrency ?? 16);
    this.maxDeliver = options.maxDeliver ?? 5;
    this.maxWorkMs = options.maxWorkMs ?? DEFAULT_MAX_WORK_MS;
    this.heartbeatMs = Math.max(100, Math.floor((options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) / 3));
    this.outcomes = metrics.counter('messages_handled_total', 'Messages handled by consumer and outcome', [
      'consumer',
      'outcome',
    ]);
    this.duration = metrics.histogram('message_handle_seconds', 'Time to handle one message', ['consumer']);
    this.redelivered = metrics.counter(
      'messages_redelivered_total',
      'Messages that arrived again (JetStream redelivery: nak, ack wait passed, crash), by consumer',
      ['consumer'],
    );
    this.lagGauges = {
      pending: metrics.gauge(
        'nats_consumer_pending_messages',
        'Messages on the stream not yet delivered to the consumer (num_pending, sampled)',
        ['consumer'],
      ),
      ackPending: metrics.gauge(
        'nats_consumer_ack_pending_messages',
        'Messages delivered and not yet acknowledged (num_ack_pending, sampled)',
        ['consumer'],
      ),
      redelivered: metrics.gauge(
        'nats_consumer_redelivered_messages',
        'Messages delivered more than once and not yet acknowledged (num_redelivered, sampled)',
        ['consumer'],
      ),
    };
  }

  get durable(): string {
    return this.options.durable;
  }

  /** Declares the consumer (idempotent) and starts pulling in the background. */
  async start(): Promise<void> {
    await ensureConsumer(this.nats.jsm, this.nats.naming, this.options);
    this.loop = this.run();
    void this.sampleLag();
    this.lagTimer = setInterval(
      () => void this.sampleLag(),
      this.options.lagSampleMs ?? DEFAULT_LAG_SAMPLE_MS,
    );
    this.lagTimer.unref();
  }

  /** Reads the consumer's info from JetStream into the lag gauges; a failed read keeps the last values. */
  async sampleLag(): Promise<void> {
    if (this.stopping || !this.nats.isConnected) return;
    try {
      const info = await this.nats.jsm.consumers.info(
        this.nats.naming.stream(this.options.stream),
        this.options.durable,
      );
      const labels = { consumer: this.options.durable };
      this.lagGauges.pending.set(labels, info.num_pending);
      this.lagGauges.ackPending.set(labels, info.num_ack_pending);
      this.lagGauges.redelivered.set(labels, info.num_redelivered);
    } catch (error) {
      this.logger.debug({ err: error, consumer: this.options.durable }, 'consumer lag sample failed');
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(
          this.nats.naming.stream(this.options.stream),
          this.options.durable,
        );
        const batch = Math.max(10, (this.options.concurrency ?? 16) * 2);
        this.messages = await consumer.consume({ max_messages: batch });
        failures = 0;
        for await (const msg of this.messages) {
          if (this.stopping) {
            msg.nak();
            continue;
          }
          await this.slots.acquire();
          void this.process(msg).finally(() => this.slots.release());
        }
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        this.logger.warn({ err: error, consumer: this.options.durable }, 'consumer loop failed; retrying');
        await sleep(jitteredBackoff(failures, 250, 5_000, 100), this.abort.signal).catch(() => undefined);
        await ensureConsumer(this.nats.jsm, this.nats.naming, this.options).catch(() => undefined);
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const abort = new AbortController();
    const message = toInbound(msg, (s) => this.nats.naming.unprefix(s), abort.signal);
    if (msg.info.redelivered) this.redelivered.inc({ consumer: this.options.durable });
    const stop = this.duration.startTimer({ consumer: this.options.durable });
    // The handler's run, awaited before the slot is given back even when the deadline decided first.
    let running: Promise<void> = Promise.resolve();
    const outcome = await withConsumerSpan(
      `${this.options.durable} process`,
      msg.headers,
      {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': msg.subject,
        'messaging.consumer.group.name': this.options.durable,
        'messaging.message.body.size': msg.data.length,
        'messaging.nats.stream.sequence': msg.seq,
        'messaging.nats.delivery_count': message.deliveryCount,
        ...(message.msgId ? { 'messaging.message.id': message.msgId } : {}),
      },
      () =>
        this.handle(msg, message, abort, (run) => {
          running = run;
        }),
    ).catch(() => 'nak' as const);
    stop();
    this.outcomes.inc({ consumer: this.options.durable, outcome });
    await running.catch(() => undefined);
  }

  /**
   * Runs the handler, telling JetStream it is still working until it settles or `maxWorkMs`
   * passes; the outcome is decided by whichever comes first, and only once.
   */
  private async handle(
    msg: JsMsg,
    message: InboundMessage,
    abort: AbortController,
    started: (run: Promise<void>) => void,
  ): Promise<Outcome> {
    const heartbeat = setInterval(() => {
      try {
        msg.working();
      } catch {
        // Disconnected: the ack wait runs out and the message comes back, as before.
      }
    }, this.heartbeatMs);
    // Neither timer may keep a stopping process alive for a handler that never settles.
    heartbeat.unref();
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      deadlineTimer = setTimeout(() => {
        const error = new TransientError(
          `${this.options.durable}: handling one message took longer than ${this.maxWorkMs} ms`,
        );
        abort.abort(error);
        reject(error);
      }, this.maxWorkMs);
      deadlineTimer.unref();
    });
    try {
      const run = Promise.resolve().then(() => this.options.handler(message));
      started(run);
      await Promise.race([run, deadline]);
      msg.ack();
      this.holds.delete(message.streamSequence);
      return 'ack';
    } catch (error) {
      const outage = !(error instanceof HoldMessage) && isConnectionFailure(error);
      if (error instanceof HoldMessage || outage) {
        const holds = (this.holds.get(message.streamSequence) ?? 0) + 1;
        this.holds.delete(message.streamSequence);
        this.holds.set(message.streamSequence, holds);
        if (this.holds.size > MAX_TRACKED_HOLDS) {
          const oldest = this.holds.keys().next().value;
          if (oldest !== undefined) this.holds.delete(oldest);
        }
        if (outage)
          this.logger.warn(
            { err: error, consumer: this.options.durable, subject: message.subject, holds },
            'a server the handler needs is unreachable; message held',
          );
        else
          this.logger.debug(
            {
              consumer: this.options.durable,
              subject: message.subject,
              holds,
              reason: (error as Error).message,
            },
            'message held',
          );
        msg.nak(holdDelayMs(holds));
        return 'nak';
      }
      const permanent = isAppError(error) && !error.transient;
      // Deliveries this process held do not count towards the limit.
      const held = this.holds.get(message.streamSequence) ?? 0;
      const lastDelivery = message.deliveryCount - held >= this.maxDeliver;
      if (permanent || lastDelivery) this.holds.delete(message.streamSequence);
      if (permanent || lastDelivery) {
        return this.deadLetter(msg, message, error, permanent ? 'permanent failure' : 'deliveries exhausted');
      }
      const delay =
        (isAppError(error) ? error.retryAfterMs : undefined) ??
        (this.options.retryDelayMs ?? defaultRetryDelay)(message.deliveryCount);
      this.logger.warn(
        {
          err: error,
          consumer: this.options.durable,
          subject: message.subject,
          delivery: message.deliveryCount,
          delay,
        },
        'message failed; will be redelivered',
      );
      msg.nak(delay);
      return 'nak';
    } finally {
      clearInterval(heartbeat);
      clearTimeout(deadlineTimer);
    }
  }

  private async deadLetter(
    msg: JsMsg,
    message: InboundMessage,
    error: unknown,
    reason: string,
  ): Promise<Outcome> {
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(message.headers)) {
      if (key !== 'nats-msg-id') headers.set(key, value);
    }
    const description = error instanceof Error ? error.message : String(error);
    headers.set(HEADERS.deadLetterError, description.slice(0, 2_000).replace(/[\r\n]+/g, ' '));
    headers.set(HEADERS.deadLetterCode, isAppError(error) ? error.code : 'INTERNAL');
    headers.set(HEADERS.deadLetterSubject, message.subject);
    headers.set(HEADERS.deadLetterStream, this.options.stream);
    headers.set(HEADERS.deadLetterSequence, String(message.streamSequence));
    headers.set(HEADERS.deadLetterDeliveries, String(message.deliveryCount));
    if (message.msgId) headers.set(HEADERS.deadLetterMsgId, message.msgId);
    try {
      await this.nats.js.publish(
        this.nats.naming.subject(deadLetterSubject(this.options.durable)),
        msg.data,
        {
          headers,
          msgID: `${this.options.stream}:${this.options.durable}:${message.streamSequence}`,
        },
      );
    } catch (publishError) {
      // Never drop a message we could not park: let it come back.
      this.logger.error({ err: publishError, consumer: this.options.durable }, 'dead-letter publish failed');
      msg.nak(5_000);
      return 'nak';
    }
    this.logger.error(
      {
        err: error,
        consumer: this.options.durable,
        subject: message.subject,
        sequence: message.streamSequence,
        deliveries: message.deliveryCount,
        reason,
      },
      'message dead-lettered',
    );
    msg.term();
    return 'term';
  }

  /** Stops pulling, lets handlers in flight finish (up to `graceMs`), and naks anything still buffered. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.lagTimer);
    this.abort.abort();
    await withTimeout(
      this.messages?.close().catch(() => undefined),
      1_000,
    );
    const idle = await this.slots.idle(graceMs);
    if (!idle) this.logger.warn({ consumer: this.options.durable }, 'handlers still running at shutdown');
    await withTimeout(this.loop, 500);
  }
}
