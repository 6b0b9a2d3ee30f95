import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

import {
  DEFECT_PRIORITIES,
  DEFECT_STATUSES,
  type DefectPriorityV1,
  type DefectStatusV1,
} from '@testkase/contracts';

/** Longest title accepted; GitLab keeps 255 characters (a longer one is shortened, the full one heads the description). */
export const MAX_TITLE_CHARS = 10_000;
/** Longest description accepted (HTML or Markdown); GitLab keeps 1,048,576 characters, the rest is cut with a note. */
export const MAX_DESCRIPTION_CHARS = 4_000_000;
export const DESCRIPTION_FORMATS = ['html', 'markdown'] as const;
export type DescriptionFormat = (typeof DESCRIPTION_FORMATS)[number];

const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };
const NOT_BLANK = /\S/;

/** Where the defect was found (a test run in TestKase). */
export class ExecutionContextDto {
  @ApiPropertyOptional({ example: 'TC-112' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  testCaseKey?: string;

  @ApiPropertyOptional({ example: 'Checkout with an expired card' })
  @IsOptional()
  @IsString()
  @Length(1, 1_000)
  testCaseTitle?: string;

  @ApiPropertyOptional({ example: 'https://testkase.example.com/demo/test-cases/TC-112' })
  @IsOptional()
  @IsUrl(HTTP_URL)
  @MaxLength(2_048)
  testCaseUrl?: string;

  @ApiPropertyOptional({ example: 'Sprint 14 regression' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  cycle?: string;

  @ApiPropertyOptional({ example: 'https://testkase.example.com/demo/executions/9001' })
  @IsOptional()
  @IsUrl(HTTP_URL)
  @MaxLength(2_048)
  executionUrl?: string;

  @ApiPropertyOptional({ example: '3. Pay with card 4000 0000 0000 0069' })
  @IsOptional()
  @IsString()
  @Length(1, 4_000)
  failedStep?: string;
}

/** `POST /v1/projects/:projectId/defects/:defectId/push`. */
export class PushDefectBody {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE_CHARS })
  @IsString()
  @Length(1, MAX_TITLE_CHARS)
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  title!: string;

  @ApiPropertyOptional({
    description: 'TestKase rich text (HTML), or Markdown with descriptionFormat markdown',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_CHARS)
  description?: string;

  @ApiPropertyOptional({ enum: DESCRIPTION_FORMATS, default: 'html' })
  @IsOptional()
  @IsIn(DESCRIPTION_FORMATS)
  descriptionFormat?: DescriptionFormat;

  @ApiProperty({ enum: DEFECT_PRIORITIES })
  @IsIn(DEFECT_PRIORITIES)
  priority!: DefectPriorityV1;

  @ApiProperty({ enum: DEFECT_STATUSES })
  @IsIn(DEFECT_STATUSES)
  status!: DefectStatusV1;

  @ApiProperty({ description: 'The defect in TestKase (the issue links back to it)' })
  @IsUrl(HTTP_URL)
  @MaxLength(2_048)
  url!: string;

  @ApiPropertyOptional({ type: ExecutionContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExecutionContextDto)
  context?: ExecutionContextDto;
}
