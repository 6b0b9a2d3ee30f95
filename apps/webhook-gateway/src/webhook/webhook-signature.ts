import { createHmac, timingSafeEqual } from 'node:crypto';

/** Result of checking the Standard Webhooks headers of a signed delivery. */
export type SignatureCheck = 'valid' | 'missing' | 'stale' | 'mismatch';

const SIGNING_KEY_PREFIX = 'whsec_';
const HMAC_SHA256_BYTES = 32;

/** The HMAC key of a `whsec_<base64>` signing token; undefined when it is not one. */
export function signingKeyOf(token: string): Buffer | undefined {
  if (!token.startsWith(SIGNING_KEY_PREFIX)) return undefined;
  const encoded = token.slice(SIGNING_KEY_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length > 0 ? key : undefined;
}

export interface SignedDelivery {
  id: string | string[] | undefined;
  timestamp: string | string[] | undefined;
  signature: string | string[] | undefined;
  body: Buffer;
}

/**
 * Standard Webhooks (the scheme GitLab's signing tokens use; docs/GITLAB.md,
 * "Signing tokens (Standard Webhooks)"):
 * `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
 * `{webhook-id}.{webhook-timestamp}.{body}`; one match is enough. The timestamp (Unix seconds) must
 * be within `toleranceMs` of now either way, which bounds replays.
 */
export function verifySignature(
  key: Buffer,
  delivery: SignedDelivery,
  nowMs: number,
  toleranceMs: number,
): SignatureCheck {
  const { id, timestamp, signature } = delivery;
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string')
    return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'missing';
  if (Math.abs(nowMs - Number(timestamp) * 1000) > toleranceMs) return 'stale';
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(delivery.body).digest();
  let matched = false;
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const presented = Buffer.from(entry.slice(comma + 1), 'base64');
    // Every entry is compared, so the time taken does not depend on which one matches.
    if (presented.length === HMAC_SHA256_BYTES && timingSafeEqual(presented, expected)) matched = true;
  }
  return matched ? 'valid' : 'mismatch';
}
