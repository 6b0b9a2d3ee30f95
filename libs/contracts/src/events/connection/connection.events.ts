import { Type } from 'class-transformer';
import {
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

export const CONNECTION_MODES = ['webhook_managed', 'webhook_manual'] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

/**
 * What a connection's health looks like to TestKase core.
 * - `active`: syncing; `awaiting_first_delivery`: connected in manual-webhook mode, no delivery seen yet;
 * - `token_expiring`: the token expires within 14 days; `auth_failed`: GitLab refused the token;
 * - `hook_disabled`: GitLab disabled our webhook (we try to re-enable it); `disconnected`.
 */
export const CONNECTION_STATUSES = [
  'active',
  'awaiting_first_delivery',
  'token_expiring',
  'auth_failed',
  'hook_disabled',
  'disconnected',
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** integration.connection.connected — a project was connected (or reconnected, or its connection updated). */
export class ConnectionConnectedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(['gitlab']) platform!: 'gitlab';
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) instanceUrl!: string;
  @IsInt() @IsPositive() gitlabProjectId!: number;
  @IsString() projectPath!: string;
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) projectWebUrl!: string;
  @IsIn(CONNECTION_MODES) mode!: ConnectionMode;
  @IsInt() @IsPositive() tokenUserId!: number;
  /** True when the same TestKase project was connected to the same GitLab project before. */
  @IsBoolean() reconnect!: boolean;
  @IsISO8601() connectedAt!: string;
}
export const ConnectionConnected = defineEvent<ConnectionConnectedV1>('integration.connection.connected');

/** integration.connection.disconnected */
export class ConnectionDisconnectedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) instanceUrl!: string;
  @IsInt() @IsPositive() gitlabProjectId!: number;
  @IsISO8601() disconnectedAt!: string;
}
export const ConnectionDisconnected = defineEvent<ConnectionDisconnectedV1>(
  'integration.connection.disconnected',
);

/** integration.connection.resync_requested — reconcile everything now (`POST …/connection/resync`). */
export class ResyncRequestedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(['full']) scope!: 'full';
  @IsISO8601() requestedAt!: string;
}
export const ResyncRequested = defineEvent<ResyncRequestedV1>('integration.connection.resync_requested');

/**
 * integration.connection.pause_changed — an operator paused or resumed a connection's sync
 * (docs/ADMIN-API.md). Paused: the consumers do no sync work for it and hold its webhook events;
 * resumed: they catch up. Consumers keep the latest by `changedAt` (a stale event is a no-op).
 */
export class ConnectionPauseChangedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsBoolean() paused!: boolean;
  @IsISO8601() changedAt!: string;
}
export const ConnectionPauseChanged = defineEvent<ConnectionPauseChangedV1>(
  'integration.connection.pause_changed',
);

/** integration.connection.auth_failed — any service saw GitLab answer 401 for this connection's token. */
export class ConnectionAuthFailedV1 {
  @IsUUID() connectionId!: string;
  @IsString() service!: string;
  @IsString() @Length(0, 500) detail!: string;
  @IsISO8601() occurredAt!: string;
}
export const ConnectionAuthFailed = defineEvent<ConnectionAuthFailedV1>('integration.connection.auth_failed');

export class BackfillProgressV1 {
  @IsIn(['running', 'completed', 'failed']) state!: 'running' | 'completed' | 'failed';
  @IsInt() @Min(0) imported!: number;
  /** GitLab's count when it gives one (it omits totals above 10,000 records). */
  @IsOptional() @IsInt() @Min(0) expected!: number | null;
  @IsISO8601() startedAt!: string;
  @IsOptional() @IsISO8601() finishedAt!: string | null;
}

export class ConnectionHookStateV1 {
  @IsOptional() @IsInt() hookId!: number | null;
  /**
   * GitLab's `alert_status`: executable, temporarily_disabled, disabled; `missing`; `manual` when we
   * do not manage it, `polling` while such a hook has not delivered yet (changes are polled meanwhile).
   */
  @IsString() alertStatus!: string;
  @IsOptional() @IsISO8601() disabledUntil!: string | null;
}

/** testkase.connection.status_changed — for TestKase core. */
export class ConnectionStatusChangedV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(CONNECTION_STATUSES) status!: ConnectionStatus;
  @IsOptional() @IsIn(CONNECTION_STATUSES) previousStatus!: ConnectionStatus | null;
  @IsOptional() @IsString() reason!: string | null;
  @IsOptional() @IsISO8601() tokenExpiresAt!: string | null;
  @IsOptional() @ValidateNested() @Type(() => ConnectionHookStateV1) hook!: ConnectionHookStateV1 | null;
  @IsOptional() @ValidateNested() @Type(() => BackfillProgressV1) backfill!: BackfillProgressV1 | null;
  @IsISO8601() occurredAt!: string;
}
export const ConnectionStatusChanged = defineEvent<ConnectionStatusChangedV1>(
  'testkase.connection.status_changed',
);
