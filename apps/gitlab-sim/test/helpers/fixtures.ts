import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * GitLab's documented and captured bodies (copied from the shared fixture set with its README,
 * so the tests do not depend on files outside the repository).
 */
export const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures', 'gitlab');

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, name), 'utf8')) as T;
}
