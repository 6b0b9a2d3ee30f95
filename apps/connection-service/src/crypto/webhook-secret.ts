import { randomBytes } from 'node:crypto';

import { sha256Hex } from '@testkase/util';

/** A fresh hook secret (32 random bytes, base64url) and the only form we keep of it: its sha256. */
export function newWebhookSecret(): { secret: string; sha256: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, sha256: sha256Hex(secret) };
}
