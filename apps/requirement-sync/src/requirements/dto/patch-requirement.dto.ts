import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';

import {
  PRIORITIES,
  REQUIREMENT_STATUSES,
  type RequirementPriority,
  type RequirementStatus,
} from '@testkase/contracts';

/** An edit of a detached requirement (TestKase owns it once its connection is gone). */
export class PatchRequirementBody {
  @ApiPropertyOptional({ minLength: 1, maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  title?: string;

  @ApiPropertyOptional({
    description: 'Markdown; the sanitized HTML is rendered from it',
    maxLength: 1_000_000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  description?: string;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: RequirementPriority;

  @ApiPropertyOptional({ enum: REQUIREMENT_STATUSES })
  @IsOptional()
  @IsIn(REQUIREMENT_STATUSES)
  status?: RequirementStatus;
}
