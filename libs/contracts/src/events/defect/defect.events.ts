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
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';

import { defineEvent } from '../../messaging/cloud-event';

export const DEFECT_PRIORITIES = ['Blocker', 'Critical', 'Major', 'Minor', 'Trivial'] as const;
export type DefectPriorityV1 = (typeof DEFECT_PRIORITIES)[number];
export const DEFECT_STATUSES = ['Open', 'In-Progress', 'Closed', 'Achieved'] as const;
export type DefectStatusV1 = (typeof DEFECT_STATUSES)[number];
/**
 * - `synced`: the GitLab issue and the defect are equal (as far as defect-sync knows);
 * - `pending`: a push or a write to GitLab is queued (rate limit, a retry after a failure);
 * - `failed`: GitLab refused the push or a write for a reason someone must fix (`error` says which);
 * - `detached`: the project was disconnected; the issue stays in GitLab, sync has stopped.
 */
export const DEFECT_SYNC_STATUSES = ['synced', 'pending', 'failed', 'detached'] as const;
export type DefectSyncStatusV1 = (typeof DEFECT_SYNC_STATUSES)[number];
/** TestKase defect ids: what the hidden issue marker can carry. */
export const DEFECT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The GitLab issue a defect was pushed to. */
export class DefectIssueRefV1 {
  @IsIn(['gitlab']) platform!: 'gitlab';
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) instanceUrl!: string;
  @IsInt() @IsPositive() gitlabProjectId!: number;
  @IsInt() @IsPositive() iid!: number;
  @IsOptional() @IsInt() @IsPositive() issueId!: number | null;
  /** The badge TestKase shows. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) webUrl!: string;
}

/** Why the last push or write failed, and when it is tried again (null: not until someone acts). */
export class DefectSyncErrorV1 {
  @IsString() code!: string;
  @IsString() message!: string;
  @IsISO8601() at!: string;
  @IsOptional() @IsISO8601() retryAt!: string | null;
}

/** Something that worked only in part (the issue exists, its priority label does not yet). */
export class DefectWarningV1 {
  @IsString() code!: string;
  @IsString() message!: string;
}

/** The issue as defect-sync last saw it on GitLab. */
export class DefectGitlabStateV1 {
  @IsIn(['opened', 'closed']) state!: 'opened' | 'closed';
  @IsArray() @IsString({ each: true }) labels!: string[];
  @IsString() title!: string;
  @IsOptional() @IsISO8601() updatedAt!: string | null;
}

/** A GitLab user who changed the issue. */
export class GitlabActorV1 {
  @IsOptional() @IsInt() id!: number | null;
  @IsOptional() @IsString() username!: string | null;
  @IsOptional() @IsString() name!: string | null;
}

/** A defect's link to GitLab as TestKase core sees it (API answers and events). */
export class DefectV1 {
  @IsString() @Length(1, 128) projectId!: string;
  @Matches(DEFECT_ID_PATTERN) defectId!: string;
  @IsOptional() @IsUUID() connectionId!: string | null;
  /** null until the issue exists. */
  @IsOptional() @ValidateNested() @Type(() => DefectIssueRefV1) issue!: DefectIssueRefV1 | null;
  @IsString() title!: string;
  @IsIn(DEFECT_PRIORITIES) priority!: DefectPriorityV1;
  @IsIn(DEFECT_STATUSES) status!: DefectStatusV1;
  @IsIn(DEFECT_SYNC_STATUSES) syncStatus!: DefectSyncStatusV1;
  @IsOptional() @ValidateNested() @Type(() => DefectSyncErrorV1) error!: DefectSyncErrorV1 | null;
  @IsArray() @ValidateNested({ each: true }) @Type(() => DefectWarningV1) warnings!: DefectWarningV1[];
  @IsOptional() @ValidateNested() @Type(() => DefectGitlabStateV1) gitlab!: DefectGitlabStateV1 | null;
  /** Increases with every change; consumers keep the highest they have seen. */
  @IsInt() @Min(1) version!: number;
  @IsOptional() @IsISO8601() pushedAt!: string | null;
  @IsISO8601() updatedAt!: string;
}

/** testkase.defect.pushed — the GitLab issue of a defect exists (also after a 202 `pending` push). */
export class DefectPushedV1 {
  @ValidateNested() @Type(() => DefectV1) defect!: DefectV1;
  /** false when an earlier attempt had created the issue and it was found again by its marker. */
  @IsBoolean() created!: boolean;
}
export const DefectPushed = defineEvent<DefectPushedV1>('testkase.defect.pushed');

/** testkase.defect.push_failed — a push answered 202 `pending` could not be completed. */
export class DefectPushFailedV1 {
  @ValidateNested() @Type(() => DefectV1) defect!: DefectV1;
  @ValidateNested() @Type(() => DefectSyncErrorV1) error!: DefectSyncErrorV1;
}
export const DefectPushFailed = defineEvent<DefectPushFailedV1>('testkase.defect.push_failed');

export const DEFECT_TEXT_FIELDS = ['title', 'description'] as const;
export type DefectTextField = (typeof DEFECT_TEXT_FIELDS)[number];

/** testkase.defect.updated — someone edited the issue's title or description on GitLab. */
export class DefectUpdatedV1 {
  @ValidateNested() @Type(() => DefectV1) defect!: DefectV1;
  @IsArray() @IsIn(DEFECT_TEXT_FIELDS, { each: true }) changedFields!: DefectTextField[];
  @IsString() title!: string;
  /** The description as GitLab Markdown, without the block defect-sync added (context, backlink, marker). */
  @IsString() descriptionMarkdown!: string;
  /** The same, rendered and sanitized. */
  @IsString() descriptionHtml!: string;
  /** Only when true: the description is too large for a message (read the defect over the API). */
  @IsOptional() @IsBoolean() descriptionOmitted?: boolean;
  @IsOptional() @ValidateNested() @Type(() => GitlabActorV1) actor!: GitlabActorV1 | null;
  @IsISO8601() gitlabUpdatedAt!: string;
}
export const DefectUpdated = defineEvent<DefectUpdatedV1>('testkase.defect.updated');

/** testkase.defect.status_changed — the issue was closed or reopened on GitLab. */
export class DefectStatusChangedV1 {
  @ValidateNested() @Type(() => DefectV1) defect!: DefectV1;
  @IsIn(DEFECT_STATUSES) previousStatus!: DefectStatusV1;
  @IsIn(DEFECT_STATUSES) status!: DefectStatusV1;
  @IsIn(['opened', 'closed']) gitlabState!: 'opened' | 'closed';
  @IsOptional() @ValidateNested() @Type(() => GitlabActorV1) actor!: GitlabActorV1 | null;
  @IsISO8601() gitlabUpdatedAt!: string;
}
export const DefectStatusChanged = defineEvent<DefectStatusChangedV1>('testkase.defect.status_changed');

/** testkase.defect.priority_changed — the issue's `priority::*` label changed on GitLab. */
export class DefectPriorityChangedV1 {
  @ValidateNested() @Type(() => DefectV1) defect!: DefectV1;
  @IsIn(DEFECT_PRIORITIES) previousPriority!: DefectPriorityV1;
  @IsIn(DEFECT_PRIORITIES) priority!: DefectPriorityV1;
  @IsArray() @IsString({ each: true }) labels!: string[];
  @IsOptional() @ValidateNested() @Type(() => GitlabActorV1) actor!: GitlabActorV1 | null;
  @IsISO8601() gitlabUpdatedAt!: string;
}
export const DefectPriorityChanged = defineEvent<DefectPriorityChangedV1>('testkase.defect.priority_changed');

/**
 * integration.defect.push_started — defect-sync is about to create the GitLab issue of a defect
 * (staged before the first request to GitLab). requirement-sync keeps issues carrying this defect's
 * marker out of the requirements while the push is in flight.
 */
export class DefectPushStartedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @Matches(DEFECT_ID_PATTERN) defectId!: string;
  @IsISO8601() startedAt!: string;
}
export const DefectPushStarted = defineEvent<DefectPushStartedV1>('integration.defect.push_started');

/**
 * integration.defect.push_finished — the push ended: `linked` (the issue defect-sync created, by
 * instance, project and iid: that issue is a defect, whatever its description says later) or
 * `failed` (no issue was created).
 */
export class DefectPushFinishedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @Matches(DEFECT_ID_PATTERN) defectId!: string;
  @IsIn(['linked', 'failed']) outcome!: 'linked' | 'failed';
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) instanceUrl!: string;
  @IsInt() @IsPositive() gitlabProjectId!: number;
  @IsOptional() @IsInt() @IsPositive() iid!: number | null;
  @IsISO8601() finishedAt!: string;
}
export const DefectPushFinished = defineEvent<DefectPushFinishedV1>('integration.defect.push_finished');
