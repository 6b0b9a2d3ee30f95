import { randomBytes } from 'node:crypto';

import type { ConnectionEntity } from '../persistence/entities/connection.entity';
import type { TokenCipher } from './token-cipher';

type SigningColumns = Pick<ConnectionEntity, 'id' | 'hookSigningKeyId' | 'hookSigningCiphertext'>;

/** A fresh signing token in the one form GitLab takes: `whsec_<base64 of a 32-byte key>` (MR !231325). */
export function newSigningToken(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Associated data of a sealed signing token: bound to its connection, and distinct from the access
 * token's, so neither ciphertext decrypts in the other's column.
 */
export const signingTokenContext = (connectionId: string): string => `${connectionId}/hook-signing-token`;

/** Seals `token` onto the row (or clears the columns for an unsigned hook). */
export function sealSigningToken(row: SigningColumns, token: string | null, cipher: TokenCipher): void {
  if (token === null) {
    row.hookSigningKeyId = null;
    row.hookSigningCiphertext = null;
    return;
  }
  const sealed = cipher.encrypt(token, signingTokenContext(row.id));
  row.hookSigningKeyId = sealed.keyId;
  row.hookSigningCiphertext = sealed.ciphertext;
}

/** The row's signing token in clear, or null when its hook is unsigned. */
export function openSigningToken(row: SigningColumns, cipher: TokenCipher): string | null {
  if (row.hookSigningKeyId === null || row.hookSigningCiphertext === null) return null;
  return cipher.decrypt(
    { keyId: row.hookSigningKeyId, ciphertext: row.hookSigningCiphertext },
    signingTokenContext(row.id),
  );
}
