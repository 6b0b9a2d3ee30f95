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

/**
 * The first field (dotted path) of `value` whose key or string value holds U+0000, which no
 * Postgres text or jsonb value can store: such input would fail in the database (a 500) instead of
 * being refused as invalid. Nesting past 64 levels is not searched (DTOs are shallow).
 */
function fieldWithNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const field = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return field;
    const found = fieldWithNul(child, field, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

class PlatformValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const found = fieldWithNul(value, metadata.data ?? '');
    if (found !== undefined) {
      const field = found || metadata.type;
      throw new ValidationError(`Invalid request: ${field} must not contain U+0000`, {
        fields: [{ field, problems: ['must not contain U+0000'] }],
      });
    }
    return super.transform(value, metadata);
  }
}

/**
 * Validates request DTOs with class-validator: unknown fields rejected, values transformed to their
 * declared types, strings with U+0000 refused, and failures reported as VALIDATION_FAILED with one
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
