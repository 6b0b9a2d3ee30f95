import { IsString, IsUUID, Length, Matches } from 'class-validator';

import { DEFECT_ID_PATTERN } from '@testkase/contracts';

const ID_MESSAGE = (name: string) =>
  `${name} must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"`;

export class RequirementParams {
  @IsString() @Length(1, 128) projectId!: string;
  @IsUUID(undefined, {
    message: 'requirementId must be a UUID (the id requirement-sync gave the requirement)',
  })
  requirementId!: string;
}

export class TestCaseParams extends RequirementParams {
  @IsString() @Matches(DEFECT_ID_PATTERN, { message: ID_MESSAGE('testCaseId') }) testCaseId!: string;
}

export class DefectParams {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, { message: ID_MESSAGE('defectId') }) defectId!: string;
}

export class CommentParams extends DefectParams {
  @IsString() @Matches(DEFECT_ID_PATTERN, { message: ID_MESSAGE('commentId') }) commentId!: string;
}
