import { IsString, Length, Matches } from 'class-validator';

import { DEFECT_ID_PATTERN } from '@testkase/contracts';

import { PatchDefectBody } from './patch-defect.dto';
import { PushDefectBody } from './push-defect.dto';

/** gRPC messages carry the ids in the message (HTTP has them in the path). */
export class GrpcDefectRef {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString()
  @Matches(DEFECT_ID_PATTERN, {
    message: 'defectId must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"',
  })
  defectId!: string;
}

export class GrpcPushDefectRequest extends PushDefectBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString()
  @Matches(DEFECT_ID_PATTERN, {
    message: 'defectId must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"',
  })
  defectId!: string;
}

export class GrpcUpdateDefectRequest extends PatchDefectBody {
  @IsString() @Length(1, 128) projectId!: string;
  @IsString()
  @Matches(DEFECT_ID_PATTERN, {
    message: 'defectId must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" or "-"',
  })
  defectId!: string;
}
