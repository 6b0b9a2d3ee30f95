import type { DataSource } from 'typeorm';

import type { Logger } from '@testkase/platform';

import { rotationContext } from '../persistence/hook-rotation.repository';
import { SCHEMA } from '../persistence/schema';
import { signingTokenContext } from './hook-signing';
import type { TokenCipher } from './token-cipher';

export interface ReencryptionResult {
  /**
   * Secrets (access tokens, hook signing tokens, and the webhook secrets of rotations under way in
   * `hook_rotations`) now sealed with the first key of the ring.
   */
  moved: number;
  /** Connections with a secret that could not be decrypted (its key is missing, or it was altered). */
  failed: string[];
}

interface StaleRow {
  id: string;
  key_id: string;
  ciphertext: string;
}

/**
 * Every sealed secret connection-service stores: its table, row key, columns and the associated
 * data it was sealed with. A new encrypted column belongs here, or rotating the key loses it.
 */
const SEALED = [
  {
    secret: 'token',
    table: 'connections',
    idColumn: 'id',
    keyId: 'token_key_id',
    ciphertext: 'token_ciphertext',
    context: (id: string) => id,
  },
  {
    secret: 'hook signing token',
    table: 'connections',
    idColumn: 'id',
    keyId: 'hook_signing_key_id',
    ciphertext: 'hook_signing_ciphertext',
    context: signingTokenContext,
  },
  {
    secret: 'hook rotation secrets',
    table: 'hook_rotations',
    idColumn: 'connection_id',
    keyId: 'key_id',
    ciphertext: 'secrets_ciphertext',
    context: rotationContext,
  },
] as const;

/**
 * Moves every stored secret to the first key of TOKEN_ENCRYPTION_KEYS. Each value is rewritten with
 * a compare-and-set on its key id and ciphertext, so a secret replaced meanwhile is left as it is.
 * Safe to run while the service runs, and again after an interruption.
 */
export async function reencryptTokens(
  dataSource: DataSource,
  cipher: TokenCipher,
  logger: Logger,
): Promise<ReencryptionResult> {
  const result: ReencryptionResult = { moved: 0, failed: [] };
  for (const column of SEALED) {
    const rows: StaleRow[] = await dataSource.query(
      `SELECT ${column.idColumn} AS id, ${column.keyId} AS key_id, ${column.ciphertext} AS ciphertext
         FROM "${SCHEMA}".${column.table}
        WHERE ${column.ciphertext} IS NOT NULL AND ${column.keyId} <> $1 ORDER BY ${column.idColumn}`,
      [cipher.primaryKeyId],
    );
    for (const row of rows) {
      let sealed;
      try {
        const context = column.context(row.id);
        sealed = cipher.encrypt(
          cipher.decrypt({ keyId: row.key_id, ciphertext: row.ciphertext }, context),
          context,
        );
      } catch (error) {
        if (!result.failed.includes(row.id)) result.failed.push(row.id);
        logger.error(
          { err: error, connectionId: row.id, keyId: row.key_id, secret: column.secret },
          'secret could not be re-encrypted',
        );
        continue;
      }
      const updated: [unknown[], number] = await dataSource.query(
        `UPDATE "${SCHEMA}".${column.table} SET ${column.keyId} = $2, ${column.ciphertext} = $3
          WHERE ${column.idColumn} = $1 AND ${column.keyId} = $4 AND ${column.ciphertext} = $5`,
        [row.id, sealed.keyId, sealed.ciphertext, row.key_id, row.ciphertext],
      );
      if (updated[1] === 1) result.moved += 1;
    }
  }
  return result;
}
