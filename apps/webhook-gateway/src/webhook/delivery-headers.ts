import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { HEADERS } from '@testkase/contracts';

/**
 * The delivery headers GitLab sends (docs/GITLAB.md, "Webhook deliveries") that travel with the event. Never
 * `X-Gitlab-Token` or the `webhook-*` signature headers: they are credentials.
 */
export const FORWARDED_HEADERS = [
  HEADERS.gitlabEvent,
  HEADERS.gitlabEventUuid,
  HEADERS.gitlabWebhookUuid,
  HEADERS.gitlabInstance,
  HEADERS.idempotencyKey,
  'user-agent',
] as const;

/** Longest header value copied onto the message; GitLab's are UUIDs, URLs and `GitLab/<version>`. */
const MAX_VALUE_LENGTH = 512;
/** Longest id accepted as Nats-Msg-Id as sent; anything longer is hashed. */
const MAX_MESSAGE_ID_LENGTH = 128;
const LINE_BREAK = /[\r\n]/;

const single = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_VALUE_LENGTH && !LINE_BREAK.test(value)
    ? value
    : undefined;

/**
 * The message's headers (without Nats-Msg-Id): the forwarded GitLab headers, when the gateway
 * received it, and the W3C trace context.
 */
export function messageHeaders(
  request: IncomingHttpHeaders,
  receivedAt: string,
  traceContext: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = single(request[name]);
    if (value !== undefined) out[name] = value;
  }
  out[HEADERS.receivedAt] = receivedAt;
  for (const name in traceContext) out[name] = traceContext[name] as string;
  return out;
}

/**
 * JetStream's Nats-Msg-Id for a delivery: `Idempotency-Key` (GitLab 17.4+, the same on retries and
 * "Resend"), else `X-Gitlab-Event-UUID` (14.8+), else a hash of the connection id and the body, so
 * that a resent delivery is stored once within the stream's duplicate window.
 */
export function messageIdOf(request: IncomingHttpHeaders, connectionId: string, body: Buffer): string {
  const key = single(request[HEADERS.idempotencyKey]) ?? single(request[HEADERS.gitlabEventUuid]);
  if (key !== undefined && key.length <= MAX_MESSAGE_ID_LENGTH) return key;
  const hash = createHash('sha256').update(connectionId).update(':');
  if (key !== undefined) return `sha256:${hash.update(key).digest('hex')}`;
  return `sha256:${hash.update(body).digest('hex')}`;
}
