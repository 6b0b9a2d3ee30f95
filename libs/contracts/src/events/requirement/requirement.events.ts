import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Min,
  ValidateNested,
} from 'class-validator';

import { defineEvent } from '../../messaging/cloud-event';

export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type RequirementPriority = (typeof PRIORITIES)[number];
export const REQUIREMENT_STATUSES = ['Active', 'Deprecated'] as const;
export type RequirementStatus = (typeof REQUIREMENT_STATUSES)[number];
/** `synced`: GitLab owns it (read-only in TestKase); `detached`: the connection is gone, TestKase owns it. */
export const SYNC_STATES = ['synced', 'detached'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

export class ExternalIssueRefV1 {
  @IsIn(['gitlab']) platform!: 'gitlab';
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) instanceUrl!: string;
  @IsInt() @IsPositive() gitlabProjectId!: number;
  @IsInt() @IsPositive() iid!: number;
  @IsOptional() @IsInt() @IsPositive() issueId!: number | null;
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) webUrl!: string;
}

/** A requirement as TestKase core sees it (API answers and events). */
export class RequirementV1 {
  @IsUUID() id!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsOptional() @IsUUID() connectionId!: string | null;
  @ValidateNested() @Type(() => ExternalIssueRefV1) external!: ExternalIssueRefV1;
  @IsString() title!: string;
  /** Sanitized HTML rendered from the GitLab Flavored Markdown below. */
  @IsString() descriptionHtml!: string;
  @IsString() descriptionMarkdown!: string;
  @IsArray() @IsString({ each: true }) labels!: string[];
  @IsIn(PRIORITIES) priority!: RequirementPriority;
  @IsIn(REQUIREMENT_STATUSES) status!: RequirementStatus;
  @IsBoolean() confidential!: boolean;
  @IsIn(SYNC_STATES) syncState!: SyncState;
  @IsOptional() @IsISO8601() gitlabCreatedAt!: string | null;
  @IsISO8601() gitlabUpdatedAt!: string;
  /** Increases with every change; consumers keep the highest they have seen. */
  @IsInt() @Min(1) version!: number;
  @IsISO8601() createdAt!: string;
  @IsISO8601() updatedAt!: string;
  /**
   * Only in events, and only when true: the description was too large to travel in one message,
   * so descriptionHtml and descriptionMarkdown are '' here; read the requirement over the API.
   */
  @IsOptional() @IsBoolean() descriptionOmitted?: boolean;
}

export const REQUIREMENT_FIELDS = [
  'title',
  'description',
  'labels',
  'priority',
  'status',
  'confidential',
  'webUrl',
  'syncState',
] as const;
export type RequirementField = (typeof REQUIREMENT_FIELDS)[number];

/** testkase.requirement.upserted — created, or changed in any field. */
export class RequirementUpsertedV1 {
  @ValidateNested() @Type(() => RequirementV1) requirement!: RequirementV1;
  @IsBoolean() created!: boolean;
  @IsArray() @IsIn(REQUIREMENT_FIELDS, { each: true }) changedFields!: RequirementField[];
}
export const RequirementUpserted = defineEvent<RequirementUpsertedV1>('testkase.requirement.upserted');

/** testkase.requirement.deprecated — its issue was closed, deleted, or moved to another project. */
export class RequirementDeprecatedV1 {
  @ValidateNested() @Type(() => RequirementV1) requirement!: RequirementV1;
  @IsIn(['closed', 'deleted_or_moved']) reason!: 'closed' | 'deleted_or_moved';
}
export const RequirementDeprecated = defineEvent<RequirementDeprecatedV1>('testkase.requirement.deprecated');

/** testkase.requirement.detached — the project was disconnected; TestKase may edit it now. */
export class RequirementDetachedV1 {
  @ValidateNested() @Type(() => RequirementV1) requirement!: RequirementV1;
  @IsUUID() connectionId!: string;
}
export const RequirementDetached = defineEvent<RequirementDetachedV1>('testkase.requirement.detached');

/** integration.requirement.backfill_progress — requirement-sync → connection-service. */
export class BackfillProgressReportedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(['running', 'completed', 'failed']) state!: 'running' | 'completed' | 'failed';
  @IsInt() @Min(0) imported!: number;
  @IsOptional() @IsInt() @Min(0) expected!: number | null;
  @IsISO8601() startedAt!: string;
  @IsOptional() @IsISO8601() finishedAt!: string | null;
}
export const BackfillProgressReported = defineEvent<BackfillProgressReportedV1>(
  'integration.requirement.backfill_progress',
);

/** integration.requirement.reconciled — what a sweep checked and repaired. */
export class ReconciliationReportedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(['incremental', 'full']) kind!: 'incremental' | 'full';
  @IsInt() @Min(0) checked!: number;
  @IsInt() @Min(0) created!: number;
  @IsInt() @Min(0) updated!: number;
  @IsInt() @Min(0) deprecated!: number;
  @IsISO8601() startedAt!: string;
  @IsISO8601() finishedAt!: string;
}
export const ReconciliationReported = defineEvent<ReconciliationReportedV1>(
  'integration.requirement.reconciled',
);
