import { createHmac } from 'node:crypto';

/** A signing token is `whsec_` followed by the base64 of a 32-byte key (MR !231325). */
export function isValidSigningToken(token: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(token);
  return match !== null && Buffer.from(match[1], 'base64').length === 32;
}

/**
 * Standard Webhooks signature: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key
 * being the base64-decoded part after `whsec_`.
 */
export function standardWebhookSignature(
  signingToken: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): string {
  const key = Buffer.from(signingToken.slice('whsec_'.length), 'base64');
  const digest = createHmac('sha256', key)
    .update(`${webhookId}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${digest}`;
}
