/**
 * `node dist/apps/connection-service/src/reencrypt-tokens.js` (Nx target `reencrypt-tokens`): after a
 * new key was put first in TOKEN_ENCRYPTION_KEYS, re-seals every stored secret (GitLab tokens, hook
 * signing tokens, rotations under way) with it (also `POST /admin/v1/reencrypt`, docs/ADMIN-API.md). Keep
 * the old key in the ring until this has finished with no failures, then remove it.
 * Exit code 0 when every token is on the first key, 1 otherwise.
 */
import { createLogger } from '@testkase/platform';
import { loadConfigOrExit } from '@testkase/platform/config';

import { ConnectionConfig } from './config/connection-service.config';
import { parseKeyRing } from './crypto/key-ring';
import { TokenCipher } from './crypto/token-cipher';
import { reencryptTokens } from './crypto/token-reencryption';
import { createConnectionDataSource } from './persistence/data-source';

async function main(): Promise<number> {
  const config = loadConfigOrExit(ConnectionConfig, 'connection-service');
  const logger = createLogger({ service: 'connection-service-reencrypt', level: config.LOG_LEVEL });
  const cipher = new TokenCipher(parseKeyRing(config.TOKEN_ENCRYPTION_KEYS));
  const dataSource = createConnectionDataSource(config);
  await dataSource.initialize();
  try {
    const result = await reencryptTokens(dataSource, cipher, logger);
    logger.info(
      { moved: result.moved, failed: result.failed.length, keyId: cipher.primaryKeyId },
      result.failed.length ? 'some tokens could not be re-encrypted' : 'every token is on the first key',
    );
    return result.failed.length ? 1 : 0;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `connection-service: re-encryption failed: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  },
);
