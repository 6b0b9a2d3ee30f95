import { randomUUID } from 'node:crypto';

import { headers as natsHeaders, type MsgHdrs, type PubAck } from 'nats';

import { HEADERS, type CloudEvent, type EventDefinition } from '@testkase/contracts';

import { injectTraceContext } from '../telemetry/tracing';
import type { NatsClient } from './nats-client';

export interface PublishOptions {
  /** JetStream Nats-Msg-Id: a second publish with the same id within the window is dropped. */
  msgId: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
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

/** Publishes to JetStream with a message id, extra headers and the active W3C trace context. */
export class EventPublisher {
  constructor(private readonly nats: NatsClient) {}

  async publishRaw(subject: string, payload: Uint8Array | string, options: PublishOptions): Promise<PubAck> {
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(options.headers ?? {})) headers.set(key, value);
    injectTraceContext(headers);
    return this.nats.js.publish(this.nats.naming.subject(subject), payload, {
      msgID: options.msgId,
      headers,
      timeout: options.timeoutMs ?? 5_000,
    });
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
