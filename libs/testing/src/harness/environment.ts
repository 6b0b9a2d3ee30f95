import { randomBytes } from 'node:crypto';

import { dropDatabase, ensureDatabase } from '@testkase/platform';

export const TEST_POSTGRES_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
export const TEST_CORE_API_TOKEN = 'test-core-api-token';
/** A fixed 32-byte key (base64) for tests; production keys come from a Secret. */
export const TEST_TOKEN_ENCRYPTION_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

export const uniqueId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

/**
 * An isolated slice of the local servers for one test file: a fresh database and a NATS prefix
 * that namespaces every stream, subject and bucket. Test files can run in parallel.
 */
export interface TestEnvironment {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly natsPrefix: string;
  /** Environment variables every app of this environment gets. */
  readonly baseEnv: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestEnvironment(label = 'e2e'): Promise<TestEnvironment> {
  const id = uniqueId('');
  const databaseUrl = new URL(TEST_POSTGRES_URL);
  databaseUrl.pathname = `/tk_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${id}`;
  await ensureDatabase(databaseUrl.toString());
  const natsPrefix = `t${id}`;
  return {
    databaseUrl: databaseUrl.toString(),
    natsUrl: TEST_NATS_URL,
    natsPrefix,
    baseEnv: {
      DATABASE_URL: databaseUrl.toString(),
      NATS_URL: TEST_NATS_URL,
      NATS_PREFIX: natsPrefix,
      CORE_API_TOKEN: TEST_CORE_API_TOKEN,
      TOKEN_ENCRYPTION_KEYS: TEST_TOKEN_ENCRYPTION_KEYS,
      GITLAB_ALLOW_PRIVATE_NETWORK: 'true',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      DB_POOL_SIZE: '5',
      // Any free port: test files run in parallel.
      GRPC_PORT: '0',
    },
    dispose: () => dropDatabase(databaseUrl.toString()),
  };
}
