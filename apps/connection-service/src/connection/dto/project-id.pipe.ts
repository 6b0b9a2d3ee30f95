import { Injectable, type PipeTransform } from '@nestjs/common';

import { ValidationError } from '@testkase/util';

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const PROJECT_ID_PROBLEM = 'must be 1-128 characters of A-Z, a-z, 0-9, _, ., : or -';

/** The TestKase project id of the route: 1–128 characters of A–Z a–z 0–9 _ . : - (never echoed back). */
@Injectable()
export class ProjectIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !PROJECT_ID_PATTERN.test(value)) {
      throw new ValidationError(`projectId ${PROJECT_ID_PROBLEM}`, {
        fields: [{ field: 'projectId', problems: [PROJECT_ID_PROBLEM] }],
      });
    }
    return value;
  }
}
