import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

import { createLogger, dropDatabase, ensureDatabase, type Logger } from '../src';

/**
 * The test run's id (set by Jest's globalSetup, libs/testing/src/jest/global-setup.ts; else this
 * process's start), so that a NATS prefix `uniqueName('t')` or a database left by a crashed run is
 * found and removed by the next run (libs/testing/src/harness/leftovers.ts).
 */
const givenRunId = process.env['TEST_RUN_ID'] ?? '';
const RUN_ID = /^[0-9a-f]{10}$/.test(givenRunId)
  ? givenRunId
  : `${Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0')}${randomBytes(1).toString('hex')}`;

export const uniqueName = (prefix: string) => `${prefix}${RUN_ID}${randomBytes(3).toString('hex')}`;

export const BASE_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = 'nats://127.0.0.1:4222';

export async function freshDatabase(
  prefix = 'tk_platform_',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${uniqueName(prefix)}`;
  await ensureDatabase(url.toString());
  return { url: url.toString(), drop: () => dropDatabase(url.toString()) };
}

/** A logger that keeps lines in memory (and can be searched by tests). */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'debug' }, stream), lines };
}

export async function eventually<T>(
  probe: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 25 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
