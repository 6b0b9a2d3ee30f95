import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { AppError } from '@testkase/util';

import type { KeyRing } from './key-ring';

/** A token at rest: the id of the key that sealed it and base64(iv ‖ tag ‖ ciphertext). */
export interface EncryptedToken {
  readonly keyId: string;
  readonly ciphertext: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a fresh 96-bit IV per token and the connection id as associated data, so a
 * ciphertext copied onto another connection's row does not decrypt.
 */
export class TokenCipher {
  constructor(private readonly ring: KeyRing) {}

  /** Id of the key new tokens are encrypted with. */
  get primaryKeyId(): string {
    return this.ring.primary.id;
  }

  encrypt(token: string, connectionId: string): EncryptedToken {
    const { id, key } = this.ring.primary;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(connectionId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return { keyId: id, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64') };
  }

  /** @throws AppError INTERNAL when the key is not in the ring or the ciphertext was altered or moved. */
  decrypt(encrypted: EncryptedToken, connectionId: string): string {
    const ringKey = this.ring.keys.get(encrypted.keyId);
    if (!ringKey) {
      throw new AppError(
        'INTERNAL',
        `Token was encrypted with key "${encrypted.keyId}", which is not in TOKEN_ENCRYPTION_KEYS`,
      );
    }
    const raw = Buffer.from(encrypted.ciphertext, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES)
      throw new AppError('INTERNAL', 'Stored token ciphertext is truncated');
    const decipher = createDecipheriv(ALGORITHM, ringKey.key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(connectionId, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new AppError(
        'INTERNAL',
        'Stored token does not authenticate (altered, or not of this connection)',
      );
    }
  }

  /** Whether a token sealed with `keyId` should be moved to the primary key. */
  isStale(keyId: string): boolean {
    return keyId !== this.ring.primary.id;
  }
}
