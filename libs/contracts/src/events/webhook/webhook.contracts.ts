import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Min,
} from 'class-validator';

import { defineEvent } from '../../messaging/cloud-event';

/**
 * The value stored under a connection id in the WEBHOOK_VERIFIERS key/value bucket: everything the
 * gateway needs to authenticate a delivery, and nothing that would let anyone forge one.
 */
export class WebhookVerifierV1 {
  @IsUUID() connectionId!: string;
  @IsString() @Length(1, 128) projectId!: string;
  @IsIn(['active', 'disconnected']) state!: 'active' | 'disconnected';
  /** sha256 hex of the hook's secret token (the X-Gitlab-Token value). */
  @Matches(/^[0-9a-f]{64}$/) secretSha256!: string;
  /** Whether GitLab signs deliveries (Standard Webhooks); the key itself comes over request/reply. */
  @IsBoolean() signed!: boolean;
  /** Updated on every change; a newer entry replaces an older one. */
  @IsISO8601() updatedAt!: string;
  /**
   * Optional (added): sha256 hex of the secret the hook had before the current one, also accepted
   * until `previousUntil` — the grace period of a secret rotation (docs/ARCHITECTURE.md, "Messaging").
   */
  @IsOptional() @Matches(/^[0-9a-f]{64}$/) previousSecretSha256?: string;
  @IsOptional() @IsISO8601() previousUntil?: string;
}

/** integration.webhook.deliveries_seen — the gateway's periodic summary per connection. */
export class DeliveriesSeenV1 {
  @IsUUID() connectionId!: string;
  @IsISO8601() lastDeliveryAt!: string;
  @IsInt() @Min(1) count!: number;
}
export const DeliveriesSeen = defineEvent<DeliveriesSeenV1>('integration.webhook.deliveries_seen');

/**
 * integration.webhook.deliveries_refused — the gateway's periodic summary of deliveries it refused
 * (wrong or missing token or signature) for a connection it knows and holds as active: GitLab holds
 * another secret than ours (edited in its UI). Ids the gateway does not know are never counted.
 */
export class DeliveriesRefusedV1 {
  @IsUUID() connectionId!: string;
  @IsISO8601() firstRefusedAt!: string;
  @IsISO8601() lastRefusedAt!: string;
  @IsInt() @Min(1) count!: number;
}
export const DeliveriesRefused = defineEvent<DeliveriesRefusedV1>('integration.webhook.deliveries_refused');

/** Request/reply `rpc.connection.credentials`: what a service may ask for about a connection. */
export interface CredentialsRequest {
  connectionId: string;
}

export interface ConnectionCredentials {
  connectionId: string;
  projectId: string;
  instanceUrl: string;
  gitlabProjectId: number;
  projectWebUrl: string;
  /** The decrypted Personal Access Token. Held in memory only; never logged, stored or forwarded. */
  token: string;
  tokenUserId: number;
  caCertificate: string | null;
}

export type CredentialsReply =
  { ok: true; credentials: ConnectionCredentials } | { ok: false; error: { code: string; message: string } };

/** Request/reply `rpc.connection.webhook_verifier`: the gateway's lookup when its KV view has no entry. */
export interface WebhookVerifierRequest {
  connectionId: string;
}

/**
 * A known connection (active or disconnected) answers `ok: true` with its verifier; an unknown id
 * answers `ok: false` with `NOT_CONNECTED` (the gateway treats both `disconnected` and unknown as 401).
 * An active, signed hook's reply also carries its `whsec_…` signing token, the HMAC key the gateway
 * checks `webhook-signature` with: held in memory only, never logged, stored or forwarded.
 */
export type WebhookVerifierReply =
  | { ok: true; verifier: WebhookVerifierV1; signingKey?: string }
  | { ok: false; error: { code: string; message: string } };
