import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

import {
  PRIORITIES,
  REQUIREMENT_STATUSES,
  SYNC_STATES,
  type RequirementPriority,
  type RequirementStatus,
  type SyncState,
} from '@testkase/contracts';

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export class ProjectParams {
  @IsString() @Length(1, 128) projectId!: string;
}

export class RequirementParams extends ProjectParams {
  @IsUUID() requirementId!: string;
}

export class ListRequirementsQuery {
  @ApiPropertyOptional({ enum: REQUIREMENT_STATUSES })
  @IsOptional()
  @IsIn(REQUIREMENT_STATUSES)
  status?: RequirementStatus;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: RequirementPriority;

  @ApiPropertyOptional({ description: 'Only requirements carrying this label (exact title)' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  label?: string;

  @ApiPropertyOptional({ description: 'Text searched in the title and the description (case-insensitive)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: SYNC_STATES })
  @IsOptional()
  @IsIn(SYNC_STATES)
  syncState?: SyncState;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'Only confidential issues (`true`) or only the others (`false`)',
  })
  @IsOptional()
  // A query string carries text: exactly `true` or `false` (gRPC sends a boolean); anything else is refused.
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  confidential?: boolean;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1_024)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}
