import { randomBytes } from 'node:crypto';

import { dropDatabase, ensureDatabase } from '@testkase/platform';

import { newTestResourceId, removeNatsPrefix, testServers } from './leftovers';

export const TEST_POSTGRES_URL = testServers().postgresUrl;
export const TEST_NATS_URL = testServers().natsUrl;
export const TEST_CORE_API_TOKEN = 'test-core-api-token';
/** A fixed 32-byte key (base64) for tests; production keys come from a Secret. */
export const TEST_TOKEN_ENCRYPTION_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

export const uniqueId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

/**
 * An isolated slice of the local servers for one test file: a fresh database and a NATS prefix
 * that namespaces every stream, subject and bucket. Test files can run in parallel. Both names
 * carry the test run's id (leftovers.ts), so that what a crashed test leaves is found and removed.
 */
export interface TestEnvironment {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly natsPrefix: string;
  /** Environment variables every app of this environment gets. */
  readonly baseEnv: Record<string, string>;
  /**
   * Removes what the environment's apps created: every stream, KV bucket and object store of its
   * prefix, and its database. Call it once its apps have stopped; a second call is a no-op. Tries
   * both even if one fails, then throws the first failure.
   */
  dispose(): Promise<void>;
}

const created: TestEnvironment[] = [];
/** Every environment created in this module instance (one per test file), newest last. */
export const createdTestEnvironments = (): readonly TestEnvironment[] => [...created];

export async function createTestEnvironment(label = 'e2e'): Promise<TestEnvironment> {
  const id = newTestResourceId();
  const databaseUrl = new URL(TEST_POSTGRES_URL);
  // Postgres cuts names at 63 bytes: keep the id whole.
  const safeLabel = label
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 40);
  databaseUrl.pathname = `/tk_${safeLabel}_${id}`;
  await ensureDatabase(databaseUrl.toString());
  const natsPrefix = `t${id}`;
  const dispose = async () => {
    const results = await Promise.allSettled([
      removeNatsPrefix(TEST_NATS_URL, natsPrefix),
      dropDatabase(databaseUrl.toString()),
    ]);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason as Error;
  };
  const environment: TestEnvironment = {
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
    dispose,
  };
  created.push(environment);
  return environment;
}
