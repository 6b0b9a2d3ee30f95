import {
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError as ClassValidationError,
} from '@nestjs/common';

import { ValidationError } from '@testkase/util';

function describe(errors: ClassValidationError[], parent = ''): Array<{ field: string; problems: string[] }> {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...describe(error.children ?? [], field)];
  });
}

/** How deep a request value may nest; DTOs are shallow, and deeper input is refused. */
export const MAX_INPUT_DEPTH = 32;

type InputProblem = { field: string; problem: string };

/**
 * The first problem of `value` that must be refused before class-validator and Nest's pipe walk
 * it: a key or string with U+0000, which no Postgres text or jsonb value can store (the database
 * would fail: a 500), or nesting deeper than {@link MAX_INPUT_DEPTH} (Nest's recursive walk of the
 * value would overflow the stack: a 500). The walk itself stops at that depth.
 */
function inputProblem(value: unknown, path: string, depth = 0): InputProblem | undefined {
  if (typeof value === 'string') {
    return value.includes('\u0000') ? { field: path, problem: 'must not contain U+0000' } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_INPUT_DEPTH)
    return { field: path, problem: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` };
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const field = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return { field, problem: 'must not contain U+0000' };
    const found = inputProblem(child, field, depth + 1);
    if (found) return found;
  }
  return undefined;
}

class PlatformValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const found = inputProblem(value, metadata.data ?? '');
    if (found) {
      const field = found.field || metadata.type;
      throw new ValidationError(`Invalid request: ${field} ${found.problem}`, {
        fields: [{ field, problems: [found.problem] }],
      });
    }
    return super.transform(value, metadata);
  }
}

/**
 * Validates request DTOs with class-validator: unknown fields rejected, values transformed to their
 * declared types, strings with U+0000 and deep nesting refused, and failures reported as VALIDATION_FAILED with one
 * entry per field.
 */
export function createValidationPipe(): ValidationPipe {
  return new PlatformValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const fields = describe(errors);
      return new ValidationError(`Invalid request: ${fields.flatMap((f) => f.problems).join('; ')}`, {
        fields,
      });
    },
  });
}
