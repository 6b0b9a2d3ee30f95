import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';

import {
  PRIORITIES,
  REQUIREMENT_STATUSES,
  type RequirementPriority,
  type RequirementStatus,
} from '@testkase/contracts';

/**
 * An edit of a detached requirement (TestKase owns it once its connection is gone), or of the
 * priority alone of a synced one (an override).
 */
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

  @ApiPropertyOptional({
    enum: PRIORITIES,
    nullable: true,
    description:
      "The only field a synced requirement takes: an override until its priority labels change on GitLab; null gives the priority back to the issue's labels",
  })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: RequirementPriority | null;

  @ApiPropertyOptional({ enum: REQUIREMENT_STATUSES })
  @IsOptional()
  @IsIn(REQUIREMENT_STATUSES)
  status?: RequirementStatus;
}
