import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import {
  DEFECT_PRIORITIES,
  DEFECT_STATUSES,
  DEFECT_SYNC_STATUSES,
  type DefectPriorityV1,
  type DefectStatusV1,
  type DefectSyncStatusV1,
} from '@testkase/contracts';

/** OpenAPI description of DefectIssueRefV1. */
export class DefectIssueRefDto {
  @ApiProperty({ enum: ['gitlab'] }) platform!: 'gitlab';
  @ApiProperty({ example: 'https://gitlab.example.com' }) instanceUrl!: string;
  @ApiProperty({ example: 42 }) gitlabProjectId!: number;
  @ApiProperty({ example: 31, description: 'The issue IID (project-scoped)' }) iid!: number;
  @ApiPropertyOptional({ type: Number, nullable: true }) issueId!: number | null;
  @ApiProperty({ example: 'https://gitlab.example.com/demo/testkase-demo/-/issues/31' }) webUrl!: string;
}

export class DefectSyncErrorDto {
  @ApiProperty({ example: 'GITLAB_UNAVAILABLE' }) code!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'null: not until someone acts',
  })
  retryAt!: string | null;
}

export class DefectWarningDto {
  @ApiProperty({ example: 'LABEL_CREATION_FORBIDDEN' }) code!: string;
  @ApiProperty() message!: string;
}

export class DefectGitlabStateDto {
  @ApiProperty({ enum: ['opened', 'closed'] }) state!: 'opened' | 'closed';
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty() title!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatedAt!: string | null;
}

/** OpenAPI description of DefectV1 (libs/contracts). */
export class DefectDto {
  @ApiProperty() projectId!: string;
  @ApiProperty() defectId!: string;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) connectionId!: string | null;
  @ApiPropertyOptional({
    type: DefectIssueRefDto,
    nullable: true,
    description: 'null until the issue exists',
  })
  issue!: DefectIssueRefDto | null;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: DEFECT_PRIORITIES }) priority!: DefectPriorityV1;
  @ApiProperty({ enum: DEFECT_STATUSES }) status!: DefectStatusV1;
  @ApiProperty({ enum: DEFECT_SYNC_STATUSES }) syncStatus!: DefectSyncStatusV1;
  @ApiPropertyOptional({ type: DefectSyncErrorDto, nullable: true }) error!: DefectSyncErrorDto | null;
  @ApiProperty({ type: [DefectWarningDto] }) warnings!: DefectWarningDto[];
  @ApiPropertyOptional({
    type: DefectGitlabStateDto,
    nullable: true,
    description: 'The issue as last synced',
  })
  gitlab!: DefectGitlabStateDto | null;
  @ApiProperty() version!: number;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) pushedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class PushResultDto {
  @ApiProperty({
    enum: ['created', 'existing', 'pending'],
    description:
      'created (201): the issue was created now; existing (200): it was pushed before; pending (202): still on its way, testkase.defect.pushed follows',
  })
  outcome!: 'created' | 'existing' | 'pending';
  @ApiProperty({ type: DefectDto }) defect!: DefectDto;
}
