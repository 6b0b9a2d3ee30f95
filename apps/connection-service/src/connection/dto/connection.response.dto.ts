import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import {
  CONNECTION_MODES,
  CONNECTION_STATUSES,
  type ConnectionMode,
  type ConnectionStatus,
} from '@testkase/contracts';

import { CHECK_WARNING_CODES } from '../../gitlab/token-inspection';

export class GitlabProjectView {
  @ApiProperty({ example: 278964 }) id!: number;
  @ApiProperty({ example: 'acme/platform/checkout' }) path!: string;
  @ApiProperty({ example: 'https://gitlab.com/acme/platform/checkout' }) webUrl!: string;
}

export class TokenView {
  @ApiProperty({ description: 'Enough to recognise the token, useless to use it.', example: 'glpat-…x7Qa' })
  hint!: string;
  @ApiProperty({ type: [String], example: ['api'] }) scopes!: string[];
  @ApiProperty({
    nullable: true,
    type: String,
    example: '2026-12-31',
    description: 'YYYY-MM-DD; null = no expiry',
  })
  expiresAt!: string | null;
  @ApiProperty({ description: 'GitLab user id of the token owner', example: 1234 }) userId!: number;
  @ApiProperty({ example: 'testkase-bot' }) username!: string;
}

export class RoleView {
  @ApiProperty({ example: 'Maintainer' }) name!: string;
  @ApiProperty({ example: 40 }) accessLevel!: number;
}

export class HookRemovalView {
  @ApiProperty({ enum: ['removed', 'already_gone', 'failed', 'manual'] })
  outcome!: 'removed' | 'already_gone' | 'failed' | 'manual';
  @ApiProperty({ nullable: true, type: String }) detail!: string | null;
  @ApiProperty() at!: string;
}

export class HookView {
  @ApiProperty({ nullable: true, type: Number, description: 'GitLab hook id (null in manual mode)' })
  id!: number | null;
  @ApiProperty({ example: 'https://hooks.testkase.example/webhooks/gitlab/6f1b2a0e-…' }) url!: string;
  @ApiProperty({
    description:
      "GitLab's alert_status (executable, temporarily_disabled, disabled), missing, manual (added by the project's admin), or polling (manual, no delivery yet: changes are polled)",
    example: 'executable',
  })
  state!: string;
  @ApiProperty({ nullable: true, type: String }) disabledUntil!: string | null;
  @ApiProperty({
    type: [String],
    example: ['issues_events', 'confidential_issues_events', 'note_events', 'confidential_note_events'],
  })
  events!: string[];
  @ApiProperty({ nullable: true, type: String }) checkedAt!: string | null;
  @ApiProperty({ nullable: true, type: HookRemovalView }) removal!: HookRemovalView | null;
  @ApiProperty({
    description:
      'Deliveries the gateway refused (wrong secret or signature) since the secret was last renewed: GitLab holds another secret (edited in its UI); the health job renews it',
    example: 0,
  })
  refusedDeliveries!: number;
  @ApiProperty({ nullable: true, type: String }) lastRefusedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the hook last got new secrets' })
  secretRenewedAt!: string | null;
}

export class LastErrorView {
  @ApiProperty({ example: 'INSTANCE_UNREACHABLE' }) code!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
}

export class CheckWarningView {
  @ApiProperty({
    enum: CHECK_WARNING_CODES,
    description: 'A check the GitLab instance cannot answer (GitLab before 15.5 cannot describe one token)',
  })
  code!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ nullable: true, type: String, example: '15.4.6-ee', description: 'What GET /version said' })
  gitlabVersion!: string | null;
}

export class BackfillView {
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) state!: 'running' | 'completed' | 'failed';
  @ApiProperty() imported!: number;
  @ApiProperty({ nullable: true, type: Number }) expected!: number | null;
  @ApiProperty() startedAt!: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
}

/** A connection as TestKase core sees it. Never carries the token or the webhook secret. */
export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'demo' }) projectId!: string;
  @ApiProperty({ enum: ['gitlab'] }) platform!: 'gitlab';
  @ApiProperty({ example: 'https://gitlab.com' }) instanceUrl!: string;
  @ApiProperty({ type: GitlabProjectView }) gitlabProject!: GitlabProjectView;
  @ApiProperty({ enum: CONNECTION_STATUSES }) status!: ConnectionStatus;
  @ApiProperty({ nullable: true, type: String, description: 'Why the status is not active' })
  statusReason!: string | null;
  @ApiProperty({ enum: CONNECTION_MODES }) mode!: ConnectionMode;
  @ApiProperty({ type: TokenView }) token!: TokenView;
  @ApiProperty({ type: RoleView }) role!: RoleView;
  @ApiProperty({ type: HookView }) hook!: HookView;
  @ApiProperty({ nullable: true, type: String }) lastDeliveryAt!: string | null;
  @ApiProperty({ nullable: true, type: LastErrorView }) lastError!: LastErrorView | null;
  @ApiProperty({
    type: [CheckWarningView],
    description: 'Checks of the token its GitLab could not make (connected anyway); empty when all were made',
  })
  warnings!: CheckWarningView[];
  @ApiProperty({ nullable: true, type: BackfillView }) backfill!: BackfillView | null;
  @ApiProperty() connectedAt!: string;
  @ApiProperty({ nullable: true, type: String }) disconnectedAt!: string | null;
  @ApiProperty() updatedAt!: string;
}

export class HookEventView {
  @ApiProperty({ example: 'issues_events' }) flag!: string;
  @ApiProperty({ example: 'Issues events' }) label!: string;
}

/** For webhook_manual: what to enter in GitLab (Settings → Webhooks). */
export class WebhookSetupView {
  @ApiProperty() url!: string;
  @ApiPropertyOptional({
    description:
      'The secret token to enter, shown only in the answer that created it. Absent when the existing secret is kept.',
  })
  secret?: string;
  @ApiProperty({ type: [HookEventView] }) events!: HookEventView[];
  @ApiProperty({ example: true }) enableSslVerification!: boolean;
  @ApiProperty() instructions!: string;
}

export class ConnectResponseView extends ConnectionView {
  @ApiPropertyOptional({ type: WebhookSetupView, description: 'Present in webhook_manual mode' })
  webhookSetup?: WebhookSetupView;
}

export class ResyncAcceptedView {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() requestedAt!: string;
}
