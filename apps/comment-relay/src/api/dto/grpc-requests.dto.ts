import { IsString, IsUUID, Length, Matches } from 'class-validator';

import { DEFECT_ID_PATTERN } from '@testkase/contracts';

import { EditCommentBody, LinkTestCaseBody, PostCommentBody } from './bodies.dto';

const idMessage = (name: string) => ({
  message: `${name} must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"`,
});

/** gRPC messages carry the ids in the message (HTTP has them in the path). */
export class GrpcRequirementRef {
  @IsString() @Length(1, 128) projectId!: string;
  @IsUUID(undefined, { message: 'requirementId must be a UUID' }) requirementId!: string;
}

export class GrpcTestCaseRef extends GrpcRequirementRef {
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('testCaseId')) testCaseId!: string;
}

export class GrpcLinkTestCaseRequest extends LinkTestCaseBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsUUID(undefined, { message: 'requirementId must be a UUID' }) requirementId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('testCaseId')) testCaseId!: string;
}

export class GrpcCommentRef {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('defectId')) defectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('commentId')) commentId!: string;
}

export class GrpcPostCommentRequest extends PostCommentBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('defectId')) defectId!: string;
}

export class GrpcEditCommentRequest extends EditCommentBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('defectId')) defectId!: string;
  @IsString() @Matches(DEFECT_ID_PATTERN, idMessage('commentId')) commentId!: string;
}
