import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsISO8601,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';

import { defineEvent } from '../../messaging/cloud-event';
import { DEFECT_ID_PATTERN, GitlabActorV1 } from '../defect/defect.events';

/**
 * A comment someone wrote on a pushed defect's GitLab issue (never one TestKase posted, never a
 * system note). Events carry the CloudEvents subject `<projectId>/<defectId>`.
 */
export class DefectCommentV1 {
  @IsString() @Length(1, 128) projectId!: string;
  @Matches(DEFECT_ID_PATTERN) defectId!: string;
  @IsUUID() connectionId!: string;
  /** GitLab's note id: the comment's identity (stable across edits). */
  @IsInt() @IsPositive() noteId!: number;
  @IsInt() @IsPositive() iid!: number;
  /** GitLab Flavored Markdown as written. */
  @IsString() bodyMarkdown!: string;
  /** The same, rendered and sanitized. */
  @IsString() bodyHtml!: string;
  /** Only when true: the body is too large for a message ('' above); read it on GitLab. */
  @IsOptional() @IsBoolean() bodyOmitted?: boolean;
  /** An internal note (or a note on a confidential issue): visible to project members only. */
  @IsBoolean() internal!: boolean;
  @IsOptional() @ValidateNested() @Type(() => GitlabActorV1) author!: GitlabActorV1 | null;
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) url!: string | null;
  @IsISO8601() gitlabCreatedAt!: string;
  @IsISO8601() gitlabUpdatedAt!: string;
}

/** testkase.defect.comment_added — a new comment on the defect's issue. */
export class DefectCommentAddedV1 {
  @ValidateNested() @Type(() => DefectCommentV1) comment!: DefectCommentV1;
}
export const DefectCommentAdded = defineEvent<DefectCommentAddedV1>('testkase.defect.comment_added');

/** testkase.defect.comment_edited — a comment relayed before was edited (keep the newest gitlabUpdatedAt). */
export class DefectCommentEditedV1 {
  @ValidateNested() @Type(() => DefectCommentV1) comment!: DefectCommentV1;
}
export const DefectCommentEdited = defineEvent<DefectCommentEditedV1>('testkase.defect.comment_edited');

/**
 * testkase.defect.comment_deleted — a comment relayed before is gone from GitLab. GitLab sends no
 * event for a deletion: reconciliation notices it, so `detectedAt` is when it was noticed.
 */
export class DefectCommentDeletedV1 {
  @IsString() @Length(1, 128) projectId!: string;
  @Matches(DEFECT_ID_PATTERN) defectId!: string;
  @IsUUID() connectionId!: string;
  @IsInt() @IsPositive() noteId!: number;
  @IsInt() @IsPositive() iid!: number;
  @IsISO8601() detectedAt!: string;
}
export const DefectCommentDeleted = defineEvent<DefectCommentDeletedV1>('testkase.defect.comment_deleted');
