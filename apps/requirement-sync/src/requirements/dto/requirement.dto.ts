import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import {
  DEPRECATION_REASONS,
  PRIORITIES,
  PRIORITY_SOURCES,
  REQUIREMENT_STATUSES,
  SYNC_STATES,
  type DeprecationReason,
  type PrioritySource,
  type RequirementPriority,
  type RequirementStatus,
  type SyncState,
} from '@testkase/contracts';

/** OpenAPI description of ExternalIssueRefV1. */
export class ExternalIssueRefDto {
  @ApiProperty({ enum: ['gitlab'] }) platform!: 'gitlab';
  @ApiProperty({ example: 'https://gitlab.example.com' }) instanceUrl!: string;
  @ApiProperty({ example: 42 }) gitlabProjectId!: number;
  @ApiProperty({ example: 7, description: 'The issue IID (project-scoped)' }) iid!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: "GitLab's global issue id" }) issueId!:
    number | null;
  @ApiProperty({ example: 'https://gitlab.example.com/group/project/-/issues/7' }) webUrl!: string;
}

/** OpenAPI description of MovedToV1. */
export class MovedToDto {
  @ApiProperty({ description: "GitLab's global id of the new issue (moved_to_id)" }) issueId!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Its iid, when GitLab told' }) iid?:
    number | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Its URL, when GitLab told' }) webUrl?:
    string | null;
}

/** OpenAPI description of RequirementV1 (libs/contracts). */
export class RequirementDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'TestKase project' }) projectId!: string;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) connectionId!: string | null;
  @ApiProperty({ type: ExternalIssueRefDto }) external!: ExternalIssueRefDto;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'Sanitized HTML rendered from the Markdown' }) descriptionHtml!: string;
  @ApiProperty({ description: 'GitLab Flavored Markdown as GitLab has it' }) descriptionMarkdown!: string;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty({ enum: PRIORITIES }) priority!: RequirementPriority;
  @ApiProperty({
    enum: PRIORITY_SOURCES,
    description:
      "gitlab: from the issue's priority::* labels; testkase: set in TestKase (an override, kept until the priority labels change on GitLab)",
  })
  prioritySource!: PrioritySource;
  @ApiProperty({ enum: REQUIREMENT_STATUSES }) status!: RequirementStatus;
  @ApiPropertyOptional({
    enum: DEPRECATION_REASONS,
    description: 'Only while Deprecated: the issue was closed, deleted, moved to another project, or retyped',
  })
  deprecationReason?: DeprecationReason;
  @ApiPropertyOptional({ type: () => MovedToDto, description: 'Only for a moved issue: where it went' })
  movedTo?: MovedToDto;
  @ApiProperty() confidential!: boolean;
  @ApiProperty({
    enum: SYNC_STATES,
    description: 'synced: read-only, GitLab owns it; detached: TestKase owns it',
  })
  syncState!: SyncState;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) gitlabCreatedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) gitlabUpdatedAt!: string;
  @ApiProperty({ description: 'Increases with every change' }) version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class RequirementPageDto {
  @ApiProperty({ type: [RequirementDto] }) items!: RequirementDto[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}
