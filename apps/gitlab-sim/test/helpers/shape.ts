/**
 * Compares the *shape* of a simulator answer with a GitLab fixture: the same keys with the same
 * JSON types, recursively; values may differ. `null` in a fixture matches anything; arrays
 * compare each actual element with the fixture's first element.
 */
export interface ShapeOptions {
  /** Paths the simulator may add that the fixture lacks (e.g. `author.locked`, `**.locked`). */
  allowExtra?: string[];
  /** Fixture paths the simulator deliberately omits (documented per test). */
  ignoreMissing?: string[];
  /** Paths where the simulator may answer null although the fixture has a value. */
  nullable?: string[];
  /** Array paths that may be empty although the fixture's are not. */
  emptyOk?: string[];
}

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';

const jsonType = (value: unknown): JsonType => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
};

function matcher(patterns: string[] = []): (path: string) => boolean {
  const regexes = patterns.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .replace(/[.+?^${}()|\\]/g, '\\$&')
          .replace(/\[\]/g, '\\[\\]')
          .replace(/\*\*/g, '§')
          .replace(/\*/g, '[^.]*')
          .replace(/§/g, '.*')}$`,
      ),
  );
  return (path) => regexes.some((regex) => regex.test(path));
}

export function shapeDifferences(actual: unknown, fixture: unknown, options: ShapeOptions = {}): string[] {
  const extraOk = matcher(options.allowExtra);
  const missingOk = matcher(options.ignoreMissing);
  const nullOk = matcher(options.nullable);
  const emptyOk = matcher(options.emptyOk);
  const problems: string[] = [];

  const walk = (value: unknown, expected: unknown, path: string): void => {
    const expectedType = jsonType(expected);
    if (expectedType === 'null') return;
    const actualType = jsonType(value);
    if (actualType !== expectedType) {
      if (actualType === 'null' && nullOk(path)) return;
      problems.push(`${path || '(root)'}: expected ${expectedType}, got ${actualType}`);
      return;
    }
    if (expectedType === 'array') {
      const expectedItems = expected as unknown[];
      const items = value as unknown[];
      if (expectedItems.length === 0) return;
      if (items.length === 0) {
        if (!emptyOk(`${path}[]`) && !emptyOk(path))
          problems.push(`${path}: empty array, the fixture has elements`);
        return;
      }
      items.forEach((item) => walk(item, expectedItems[0], `${path}[]`));
      return;
    }
    if (expectedType === 'object') {
      const expectedObject = expected as Record<string, unknown>;
      const object = value as Record<string, unknown>;
      const prefix = path ? `${path}.` : '';
      for (const key of Object.keys(expectedObject)) {
        if (!(key in object)) {
          if (!missingOk(`${prefix}${key}`)) problems.push(`${prefix}${key}: missing`);
          continue;
        }
        walk(object[key], expectedObject[key], `${prefix}${key}`);
      }
      for (const key of Object.keys(object)) {
        if (!(key in expectedObject) && !extraOk(`${prefix}${key}`))
          problems.push(`${prefix}${key}: not in the fixture`);
      }
    }
  };
  walk(actual, fixture, '');
  return problems;
}

export function expectSameShape(actual: unknown, fixture: unknown, options: ShapeOptions = {}): void {
  expect(shapeDifferences(actual, fixture, options)).toEqual([]);
}
