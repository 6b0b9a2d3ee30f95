import { Injectable, type PipeTransform } from '@nestjs/common';

import { ValidationError } from '@testkase/util';

const PROJECT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The TestKase project id of the route: 1–128 characters of A–Z a–z 0–9 _ . : - (never echoed back). */
@Injectable()
export class ProjectIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !PROJECT_ID.test(value)) {
      throw new ValidationError('projectId must be 1-128 characters of A-Z, a-z, 0-9, _, ., : or -', {
        fields: [
          { field: 'projectId', problems: ['must be 1-128 characters of A-Z, a-z, 0-9, _, ., : or -'] },
        ],
      });
    }
    return value;
  }
}
