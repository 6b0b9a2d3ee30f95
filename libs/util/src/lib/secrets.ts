import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 hex digest. Suitable for high-entropy secrets (random tokens), not for passwords. */
export const sha256Hex = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');

/** Compares two strings in time that depends only on their length. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    // Compare against itself so that the time spent does not reveal where the mismatch is.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * A `glpat-` token whose last four characters are `x7Qa` → `glpat-…x7Qa`: enough to recognise a
 * token, useless to steal it.
 * Short values show no characters at all.
 */
export function tokenHint(token: string): string {
  const prefix = /^([a-z]{2,8}-)/.exec(token)?.[1] ?? '';
  const rest = token.slice(prefix.length);
  return rest.length >= 16 ? `${prefix}…${rest.slice(-4)}` : `${prefix}…`;
}
