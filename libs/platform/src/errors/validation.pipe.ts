import { ValidationPipe, type ValidationError as ClassValidationError } from '@nestjs/common';

import { ValidationError } from '@testkase/util';

function describe(errors: ClassValidationError[], parent = ''): Array<{ field: string; problems: string[] }> {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...describe(error.children ?? [], field)];
  });
}

/**
 * Validates request DTOs with class-validator: unknown fields rejected, values transformed to their
 * declared types, and failures reported as VALIDATION_FAILED with one entry per field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
