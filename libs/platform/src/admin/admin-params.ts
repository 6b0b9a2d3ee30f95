import { Injectable, type PipeTransform } from '@nestjs/common';

import { ValidationError } from '@testkase/util';

/** A positive integer path parameter (a stream sequence), else 400 VALIDATION_FAILED. */
@Injectable()
export class SequenceParamPipe implements PipeTransform<string | number, number> {
  transform(value: string | number): number {
    // The global validation pipe may have turned the parameter into a number already.
    const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
    if (!/^[1-9]\d{0,14}$/.test(text)) {
      throw new ValidationError('sequence must be a positive integer (a DEAD_LETTERS sequence)', {
        fields: [{ field: 'sequence', problems: ['must be a positive integer'] }],
      });
    }
    return Number(text);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A connection id path parameter (a UUID), else 400 VALIDATION_FAILED. */
@Injectable()
export class ConnectionIdParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new ValidationError('connectionId must be a UUID', {
        fields: [{ field: 'connectionId', problems: ['must be a UUID'] }],
      });
    }
    return value.toLowerCase();
  }
}
