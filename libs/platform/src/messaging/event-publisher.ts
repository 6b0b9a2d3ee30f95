import { randomUUID } from 'node:crypto';

import { context, trace, type Context } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs, type PubAck } from 'nats';

import { HEADERS, type CloudEvent, type EventDefinition } from '@testkase/contracts';

import { injectTraceContext, SpanKind, SpanStatusCode, tracer } from '../telemetry/tracing';
import type { NatsClient } from './nats-client';

export interface PublishOptions {
  /** JetStream Nats-Msg-Id: a second publish with the same id within the window is dropped. */
  msgId: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /**
   * Parent of the producer span (default: the active context). The outbox relay passes the stored
   * context of the work that staged the event, so that the event stays in that work's trace.
   */
  parent?: Context;
}

/** Messaging semantic conventions of one NATS publish (docs/ARCHITECTURE.md, "Telemetry"). */
export function producerAttributes(
  natsSubject: string,
  msgId: string,
  payload: Uint8Array | string,
): Record<string, string | number> {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'publish',
    'messaging.destination.name': natsSubject,
    'messaging.message.id': msgId,
    'messaging.message.body.size': typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
  };
}

/** Builds a CloudEvents 1.0 envelope for one of our events. */
export function buildCloudEvent<T>(
  source: string,
  definition: EventDefinition<T>,
  data: T,
  options: { id?: string; subject?: string; time?: Date } = {},
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source,
    type: definition.type,
    time: (options.time ?? new Date()).toISOString(),
    ...(options.subject ? { subject: options.subject } : {}),
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * Publishes to JetStream with a message id and extra headers, in a PRODUCER span whose W3C trace
 * context goes into the message headers (the consumer's span is its child).
 */
export class EventPublisher {
  constructor(private readonly nats: NatsClient) {}

  async publishRaw(subject: string, payload: Uint8Array | string, options: PublishOptions): Promise<PubAck> {
    const natsSubject = this.nats.naming.subject(subject);
    const parent = options.parent ?? context.active();
    const span = tracer().startSpan(
      `publish ${subject}`,
      { kind: SpanKind.PRODUCER, attributes: producerAttributes(natsSubject, options.msgId, payload) },
      parent,
    );
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(options.headers ?? {})) headers.set(key, value);
    injectTraceContext(headers, trace.setSpan(parent, span));
    try {
      const ack = await this.nats.js.publish(natsSubject, payload, {
        msgID: options.msgId,
        headers,
        timeout: options.timeoutMs ?? 5_000,
      });
      span.setAttribute('messaging.nats.stream.sequence', ack.seq);
      if (ack.duplicate) span.setAttribute('messaging.nats.duplicate', 1);
      return ack;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  async publishEvent<T>(
    event: CloudEvent<T>,
    subject: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<PubAck> {
    return this.publishRaw(subject, JSON.stringify(event), {
      msgId: event.id,
      headers: { [HEADERS.eventType]: event.type, [HEADERS.eventId]: event.id, ...extraHeaders },
    });
  }
}

export function headersToRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  for (const [key, values] of headers) record[key.toLowerCase()] = values[0] ?? '';
  return record;
}
