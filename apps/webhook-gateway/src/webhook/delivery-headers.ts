import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { HEADERS, type GitlabEventKind } from '@testkase/contracts';

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
 * JetStream's Nats-Msg-Id for a delivery: `<connectionId>:<kind>:<key>`. The key is the signed
 * `webhook-id` of a signed hook (`signedId`, only once its signature is checked), else
 * `Idempotency-Key` (GitLab 17.4+, the same on retries and "Resend"), else `X-Gitlab-Event-UUID`
 * (14.8+) followed by a hash of the body, else a hash of the connection id and the body, so that
 * a resent delivery is stored once within the stream's duplicate window.
 *
 * JetStream deduplicates across the whole stream, so the key alone is not enough: any caller
 * holding one connection's secret could pick another connection's keys, and a GitLab request that
 * carried an `X-Gitlab-Event-UUID` passes it on to every hook it fires, Issue Hooks and Note Hooks
 * alike (hence the kind, and the body's hash). A signed hook's `Idempotency-Key` is not covered by
 * the signature, so a replay within the tolerance could evade the dedupe by changing it;
 * `webhook-id` is signed, and GitLab makes it equal to the `Idempotency-Key` (docs/GITLAB.md,
 * "Webhook deliveries" and "Signing tokens (Standard Webhooks)").
 */
export function messageIdOf(
  request: IncomingHttpHeaders,
  connectionId: string,
  kind: GitlabEventKind,
  body: Buffer,
  signedId?: string,
): string {
  const namespace = `${connectionId}:${kind}:`;
  const key =
    (signedId === undefined ? undefined : single(signedId)) ?? single(request[HEADERS.idempotencyKey]);
  if (key !== undefined) {
    if (key.length <= MAX_MESSAGE_ID_LENGTH) return namespace + key;
    return `${namespace}sha256:${createHash('sha256').update(connectionId).update(':').update(key).digest('hex')}`;
  }
  const eventUuid = single(request[HEADERS.gitlabEventUuid]);
  const bodyHash = createHash('sha256').update(connectionId).update(':').update(body).digest('hex');
  if (eventUuid !== undefined && eventUuid.length <= MAX_MESSAGE_ID_LENGTH) {
    return `${namespace}${eventUuid}:${bodyHash.slice(0, 32)}`;
  }
  return `${namespace}sha256:${bodyHash}`;
}
