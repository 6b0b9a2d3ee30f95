import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { ConnectionMode, ConnectionStatus } from '@testkase/contracts';

/** What the last attempt to remove our hook from GitLab did (kept on the disconnected row). */
export interface HookRemovalRecord {
  outcome: 'removed' | 'already_gone' | 'failed' | 'manual';
  detail: string | null;
  at: string;
}

export interface LastErrorRecord {
  code: string;
  message: string;
  at: string;
}

/** A check of the token that its GitLab could not answer (see gitlab/token-inspection.ts). */
export interface CheckWarningRecord {
  code: string;
  message: string;
  gitlabVersion: string | null;
}

export interface BackfillRecord {
  state: 'running' | 'completed' | 'failed';
  imported: number;
  expected: number | null;
  startedAt: string;
  finishedAt: string | null;
}

/**
 * One TestKase project ⇄ GitLab project link. A disconnected row is kept (with its token wiped);
 * reconnecting the same TestKase project to the same GitLab project reactivates the same row (and id).
 */
@Entity({ name: 'connections' })
export class ConnectionEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'project_id', type: 'text' }) projectId!: string;
  @Column({ type: 'text' }) platform!: 'gitlab';
  @Column({ name: 'instance_url', type: 'text' }) instanceUrl!: string;
  @Column({ name: 'gitlab_project_id', type: 'integer' }) gitlabProjectId!: number;
  @Column({ name: 'project_path', type: 'text' }) projectPath!: string;
  @Column({ name: 'project_web_url', type: 'text' }) projectWebUrl!: string;
  @Column({ type: 'text' }) mode!: ConnectionMode;
  @Column({ type: 'text' }) status!: ConnectionStatus;

  /** Id of the TOKEN_ENCRYPTION_KEYS key that sealed the token; null once disconnected. */
  @Column({ name: 'token_key_id', type: 'text', nullable: true }) tokenKeyId!: string | null;
  /** base64(iv ‖ tag ‖ AES-256-GCM ciphertext), the connection id as associated data. */
  @Column({ name: 'token_ciphertext', type: 'text', nullable: true }) tokenCiphertext!: string | null;
  @Column({ name: 'token_hint', type: 'text' }) tokenHint!: string;
  @Column({ name: 'token_scopes', type: 'text', array: true }) tokenScopes!: string[];
  /** GitLab's `expires_at` (a date), or null for a token that does not expire. */
  @Column({ name: 'token_expires_at', type: 'date', nullable: true }) tokenExpiresAt!: string | null;
  @Column({ name: 'token_user_id', type: 'integer' }) tokenUserId!: number;
  @Column({ name: 'token_username', type: 'text' }) tokenUsername!: string;
  @Column({ name: 'token_updated_at', type: 'timestamptz' }) tokenUpdatedAt!: Date;
  @Column({ name: 'access_level', type: 'integer' }) accessLevel!: number;
  /** PEM of the private CA the instance's certificate chains to (public data). */
  @Column({ name: 'ca_certificate', type: 'text', nullable: true }) caCertificate!: string | null;

  @Column({ name: 'hook_id', type: 'integer', nullable: true }) hookId!: number | null;
  @Column({ name: 'hook_url', type: 'text' }) hookUrl!: string;
  /** sha256 hex of the hook secret; the secret itself is never stored. */
  @Column({ name: 'hook_secret_sha256', type: 'text' }) hookSecretSha256!: string;
  /**
   * The hook's `whsec_…` signing token, sealed like the access token (its own associated data); null
   * when GitLab does not sign this hook's deliveries (manual hooks, a GitLab without the feature).
   */
  @Column({ name: 'hook_signing_key_id', type: 'text', nullable: true }) hookSigningKeyId!: string | null;
  @Column({ name: 'hook_signing_ciphertext', type: 'text', nullable: true })
  hookSigningCiphertext!: string | null;
  /** GitLab's alert_status, `missing` when the hook is gone, `manual` when we do not manage it. */
  @Column({ name: 'hook_alert_status', type: 'text' }) hookAlertStatus!: string;
  @Column({ name: 'hook_disabled_until', type: 'timestamptz', nullable: true })
  hookDisabledUntil!: Date | null;
  @Column({ name: 'hook_checked_at', type: 'timestamptz', nullable: true }) hookCheckedAt!: Date | null;
  @Column({ name: 'hook_removal', type: 'jsonb', nullable: true }) hookRemoval!: HookRemovalRecord | null;
  /** Deliveries the gateway refused (wrong token or signature) since `hookSecretRenewedAt`. */
  @Column({ name: 'hook_refused_deliveries', type: 'integer', default: 0 }) hookRefusedDeliveries!: number;
  @Column({ name: 'hook_last_refused_at', type: 'timestamptz', nullable: true })
  hookLastRefusedAt!: Date | null;
  @Column({ name: 'hook_secret_renewed_at', type: 'timestamptz', nullable: true })
  hookSecretRenewedAt!: Date | null;
  /** sha256 hex of the secret before the last rotation, accepted by the gateway until `hookPreviousUntil`. */
  @Column({ name: 'hook_previous_secret_sha256', type: 'text', nullable: true })
  hookPreviousSecretSha256!: string | null;
  @Column({ name: 'hook_previous_until', type: 'timestamptz', nullable: true })
  hookPreviousUntil!: Date | null;

  @Column({ name: 'last_delivery_at', type: 'timestamptz', nullable: true }) lastDeliveryAt!: Date | null;
  @Column({ name: 'last_error', type: 'jsonb', nullable: true }) lastError!: LastErrorRecord | null;
  /** What the last check of the token could not find out (an older GitLab); empty otherwise. */
  @Column({ name: 'check_warnings', type: 'jsonb' }) checkWarnings!: CheckWarningRecord[];
  @Column({ name: 'auth_failed_at', type: 'timestamptz', nullable: true }) authFailedAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) backfill!: BackfillRecord | null;
  @Column({ name: 'backfill_reported_at', type: 'timestamptz', nullable: true })
  backfillReportedAt!: Date | null;
  @Column({ name: 'health_checked_at', type: 'timestamptz', nullable: true }) healthCheckedAt!: Date | null;

  @Column({ name: 'connected_at', type: 'timestamptz' }) connectedAt!: Date;
  @Column({ name: 'disconnected_at', type: 'timestamptz', nullable: true }) disconnectedAt!: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
