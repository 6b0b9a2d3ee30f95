import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

import { createLogger, dropDatabase, ensureDatabase, type Logger } from '../src';

export const uniqueName = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

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
