import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
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
/**
 * Where a requirement's priority comes from: `gitlab` (its `priority::*` labels) or `testkase` (set
 * in TestKase: an override of a synced requirement, kept until a priority label changes on GitLab,
 * or an edit of a detached one).
 */
export const PRIORITY_SOURCES = ['gitlab', 'testkase'] as const;
export type PrioritySource = (typeof PRIORITY_SOURCES)[number];

/**
 * Why a requirement is Deprecated: its issue was `closed`, `deleted`, `moved` to another project,
 * or `retyped` (turned into a Task, an Incident or another work item type).
 */
export const DEPRECATION_REASONS = ['closed', 'deleted', 'moved', 'retyped'] as const;
export type DeprecationReason = (typeof DEPRECATION_REASONS)[number];

/**
 * Where a moved issue went: GitLab's `moved_to_id` (the new issue's global id) and, when GitLab
 * tells (the `moved to` note of the original), the new issue's iid and URL.
 */
export class MovedToV1 {
  @IsInt() @IsPositive() issueId!: number;
  @IsOptional() @IsInt() @IsPositive() iid?: number | null;
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) webUrl?: string | null;
}

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
  /** Always sent by requirement-sync; optional so that payloads of earlier versions stay valid. */
  @IsOptional() @IsIn(PRIORITY_SOURCES) prioritySource?: PrioritySource;
  @IsIn(REQUIREMENT_STATUSES) status!: RequirementStatus;
  /**
   * Only while Deprecated (sent by requirement-sync from this version on; absent in payloads of
   * earlier versions): why.
   */
  @IsOptional() @IsIn(DEPRECATION_REASONS) deprecationReason?: DeprecationReason;
  /** Only with `deprecationReason: 'moved'`: where the issue went. */
  @IsOptional() @ValidateNested() @Type(() => MovedToV1) movedTo?: MovedToV1;
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

/**
 * The TestKase values of a re-attached requirement that GitLab's values replaced: fields edited in
 * TestKase while it was detached and different from GitLab's. `description` is Markdown; it is left
 * out, with `descriptionOmitted: true`, when it is too large for one message.
 */
export class ReplacedTestkaseValuesV1 {
  @IsOptional() @IsString() title?: string;
  @IsOptional() @IsString() description?: string;
  @IsOptional() @IsIn(PRIORITIES) priority?: RequirementPriority;
  @IsOptional() @IsIn(REQUIREMENT_STATUSES) status?: RequirementStatus;
  @IsOptional() @IsBoolean() descriptionOmitted?: boolean;
}

/** testkase.requirement.upserted — created, or changed in any field. */
export class RequirementUpsertedV1 {
  @ValidateNested() @Type(() => RequirementV1) requirement!: RequirementV1;
  @IsBoolean() created!: boolean;
  /** `priority` also when only its source changed (an override set or dropped at the same value). */
  @IsArray() @IsIn(REQUIREMENT_FIELDS, { each: true }) changedFields!: RequirementField[];
  /** Only when a re-attached requirement's TestKase edits were replaced by GitLab's values. */
  @IsOptional() @ValidateNested() @Type(() => ReplacedTestkaseValuesV1) replaced?: ReplacedTestkaseValuesV1;
  /** Only when a change of the issue's `priority::*` labels dropped a TestKase priority override: its value. */
  @IsOptional() @IsIn(PRIORITIES) droppedPriorityOverride?: RequirementPriority;
}
export const RequirementUpserted = defineEvent<RequirementUpsertedV1>('testkase.requirement.upserted');

/** At most this many items in one `testkase.requirement.upserted_batch` (one backfill page of 100). */
export const MAX_UPSERTED_BATCH_ITEMS = 100;
/**
 * At most this many bytes of items (each item's JSON, UTF-8) in one `upserted_batch`, below the
 * outbox's 768 KiB per event; an item larger than this alone travels as a batch of one.
 */
export const MAX_UPSERTED_BATCH_BYTES = 512 * 1024;

/**
 * testkase.requirement.upserted_batch — several `testkase.requirement.upserted` of one connection in
 * one message (the backfill's pages). Each item is exactly the data of one `upserted` event, and is
 * applied as that event would be (forward-only by `requirement.version`); the batch's CloudEvent id
 * is the idempotency key of all its items together (docs/ARCHITECTURE.md, "Messaging").
 */
export class RequirementUpsertedBatchV1 {
  @IsUUID() connectionId!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_UPSERTED_BATCH_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => RequirementUpsertedV1)
  items!: RequirementUpsertedV1[];
}
export const RequirementUpsertedBatch = defineEvent<RequirementUpsertedBatchV1>(
  'testkase.requirement.upserted_batch',
);

/**
 * testkase.requirement.deprecated — its issue was closed, deleted, moved to another project or turned
 * into another work item type. `reason` keeps its two v1 values (`deleted_or_moved` for a deleted,
 * moved or retyped issue); `requirement.deprecationReason` says which.
 */
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
