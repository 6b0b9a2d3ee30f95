import { IsString, Length, Matches } from 'class-validator';

import { DEFECT_ID_PATTERN } from '@testkase/contracts';

const DEFECT_ID_MESSAGE = 'defectId must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"';

export class ProjectParams {
  @IsString() @Length(1, 128) projectId!: string;
}

export class DefectParams extends ProjectParams {
  @IsString() @Matches(DEFECT_ID_PATTERN, { message: DEFECT_ID_MESSAGE }) defectId!: string;
}
