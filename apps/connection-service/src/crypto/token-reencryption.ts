import type { DataSource } from 'typeorm';

import type { Logger } from '@testkase/platform';

import { SCHEMA } from '../persistence/schema';
import type { TokenCipher } from './token-cipher';

export interface ReencryptionResult {
  /** Tokens now sealed with the first key of the ring. */
  moved: number;
  /** Tokens that could not be decrypted (their key is missing from the ring, or they were altered). */
  failed: string[];
}

interface StaleRow {
  id: string;
  token_key_id: string;
  token_ciphertext: string;
}

/**
 * Moves every stored token to the first key of TOKEN_ENCRYPTION_KEYS. Each row is rewritten with
 * a compare-and-set on its key id and ciphertext, so a token rotated meanwhile is left as it is.
 * Safe to run while the service runs, and again after an interruption.
 */
export async function reencryptTokens(
  dataSource: DataSource,
  cipher: TokenCipher,
  logger: Logger,
): Promise<ReencryptionResult> {
  const rows: StaleRow[] = await dataSource.query(
    `SELECT id, token_key_id, token_ciphertext FROM "${SCHEMA}".connections
      WHERE token_ciphertext IS NOT NULL AND token_key_id <> $1 ORDER BY id`,
    [cipher.primaryKeyId],
  );
  const result: ReencryptionResult = { moved: 0, failed: [] };
  for (const row of rows) {
    let sealed;
    try {
      const token = cipher.decrypt({ keyId: row.token_key_id, ciphertext: row.token_ciphertext }, row.id);
      sealed = cipher.encrypt(token, row.id);
    } catch (error) {
      result.failed.push(row.id);
      logger.error(
        { err: error, connectionId: row.id, keyId: row.token_key_id },
        'token could not be re-encrypted',
      );
      continue;
    }
    const updated: [unknown[], number] = await dataSource.query(
      `UPDATE "${SCHEMA}".connections SET token_key_id = $2, token_ciphertext = $3
        WHERE id = $1 AND token_key_id = $4 AND token_ciphertext = $5`,
      [row.id, sealed.keyId, sealed.ciphertext, row.token_key_id, row.token_ciphertext],
    );
    if (updated[1] === 1) result.moved += 1;
  }
  return result;
}
