import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

import {
  DEFECT_PRIORITIES,
  DEFECT_STATUSES,
  type DefectPriorityV1,
  type DefectStatusV1,
} from '@testkase/contracts';

import {
  DESCRIPTION_FORMATS,
  MAX_DESCRIPTION_CHARS,
  MAX_TITLE_CHARS,
  type DescriptionFormat,
} from './push-defect.dto';

/** `PATCH /v1/projects/:projectId/defects/:defectId`: what TestKase changed (at least one field). */
export class PatchDefectBody {
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_TITLE_CHARS })
  @IsOptional()
  @IsString()
  @Length(1, MAX_TITLE_CHARS)
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_CHARS)
  description?: string;

  @ApiPropertyOptional({ enum: DESCRIPTION_FORMATS, default: 'html' })
  @IsOptional()
  @IsIn(DESCRIPTION_FORMATS)
  descriptionFormat?: DescriptionFormat;

  @ApiPropertyOptional({ enum: DEFECT_PRIORITIES })
  @IsOptional()
  @IsIn(DEFECT_PRIORITIES)
  priority?: DefectPriorityV1;

  @ApiPropertyOptional({ enum: DEFECT_STATUSES })
  @IsOptional()
  @IsIn(DEFECT_STATUSES)
  status?: DefectStatusV1;
}
