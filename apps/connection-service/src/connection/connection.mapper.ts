import type {
  ConnectionConnectedV1,
  ConnectionDisconnectedV1,
  ConnectionStatusChangedV1,
  WebhookVerifierV1,
} from '@testkase/contracts';

import type { ConnectionEntity } from '../persistence/entities/connection.entity';
import { deriveStatus, hookStateOf } from './connection-status';
import type { ConnectionView } from './dto/connection.response.dto';
import { HOOK_EVENTS, roleName } from './gitlab-access';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** The API view of a connection: everything but the token and the webhook secret. */
export function toConnectionView(row: ConnectionEntity, now: Date): ConnectionView {
  return {
    connectionId: row.id,
    projectId: row.projectId,
    platform: row.platform,
    instanceUrl: row.instanceUrl,
    gitlabProject: { id: row.gitlabProjectId, path: row.projectPath, webUrl: row.projectWebUrl },
    status: row.status,
    statusReason: deriveStatus(row, now).reason,
    mode: row.mode,
    token: {
      hint: row.tokenHint,
      scopes: [...row.tokenScopes],
      expiresAt: row.tokenExpiresAt,
      userId: row.tokenUserId,
      username: row.tokenUsername,
    },
    role: { name: roleName(row.accessLevel), accessLevel: row.accessLevel },
    hook: {
      id: row.hookId,
      url: row.hookUrl,
      state: hookStateOf(row),
      disabledUntil: iso(row.hookDisabledUntil),
      events: HOOK_EVENTS.map((event) => event.flag),
      checkedAt: iso(row.hookCheckedAt),
      removal: row.hookRemoval,
      refusedDeliveries: row.hookRefusedDeliveries,
      lastRefusedAt: iso(row.hookLastRefusedAt),
      secretRenewedAt: iso(row.hookSecretRenewedAt),
    },
    lastDeliveryAt: iso(row.lastDeliveryAt),
    lastError: row.lastError,
    warnings: row.checkWarnings.map(({ code, message, gitlabVersion }) => ({ code, message, gitlabVersion })),
    backfill: row.backfill,
    connectedAt: row.connectedAt.toISOString(),
    disconnectedAt: iso(row.disconnectedAt),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * What the gateway needs to authenticate this connection's deliveries: the secret's hash, and
 * whether GitLab signs them (the key itself only over request/reply).
 */
export function toVerifier(row: ConnectionEntity, now: Date): WebhookVerifierV1 {
  return {
    connectionId: row.id,
    projectId: row.projectId,
    state: row.disconnectedAt ? 'disconnected' : 'active',
    secretSha256: row.hookSecretSha256,
    signed: row.hookSigningCiphertext !== null,
    updatedAt: now.toISOString(),
    ...(row.hookPreviousSecretSha256 && row.hookPreviousUntil && row.hookPreviousUntil > now
      ? {
          previousSecretSha256: row.hookPreviousSecretSha256,
          previousUntil: row.hookPreviousUntil.toISOString(),
        }
      : {}),
  };
}

/**
 * How long the gateway keeps accepting a hook's previous secret after a rotation: deliveries GitLab
 * queued before it learnt the new one, and a retried rotation, still authenticate.
 */
export const SECRET_GRACE_MS = 15 * 60_000;

/**
 * The verifier to publish before GitLab learns `secretSha256`: the new secret, and the current one
 * still accepted for the grace period (docs/ARCHITECTURE.md, "Messaging").
 */
export function rotatingVerifier(row: ConnectionEntity, secretSha256: string, now: Date): WebhookVerifierV1 {
  const current = toVerifier(row, now);
  const previous =
    row.hookSecretSha256 && row.hookSecretSha256 !== secretSha256 ? row.hookSecretSha256 : null;
  return {
    ...current,
    state: 'active',
    secretSha256,
    signed: false,
    ...(previous
      ? {
          previousSecretSha256: previous,
          previousUntil: new Date(now.getTime() + SECRET_GRACE_MS).toISOString(),
        }
      : {}),
  };
}

/** Records on the row that GitLab now holds the secret `secretSha256` (the old one in its grace period). */
export function applyRenewedSecret(row: ConnectionEntity, secretSha256: string, now: Date): void {
  if (row.hookSecretSha256 && row.hookSecretSha256 !== secretSha256) {
    row.hookPreviousSecretSha256 = row.hookSecretSha256;
    row.hookPreviousUntil = new Date(now.getTime() + SECRET_GRACE_MS);
  }
  row.hookSecretSha256 = secretSha256;
  row.hookSecretRenewedAt = now;
  row.hookRefusedDeliveries = 0;
}

export function toConnectedEvent(row: ConnectionEntity, reconnect: boolean): ConnectionConnectedV1 {
  return {
    connectionId: row.id,
    projectId: row.projectId,
    platform: row.platform,
    instanceUrl: row.instanceUrl,
    gitlabProjectId: row.gitlabProjectId,
    projectPath: row.projectPath,
    projectWebUrl: row.projectWebUrl,
    mode: row.mode,
    tokenUserId: row.tokenUserId,
    reconnect,
    connectedAt: row.connectedAt.toISOString(),
  };
}

export function toDisconnectedEvent(row: ConnectionEntity): ConnectionDisconnectedV1 {
  return {
    connectionId: row.id,
    projectId: row.projectId,
    instanceUrl: row.instanceUrl,
    gitlabProjectId: row.gitlabProjectId,
    disconnectedAt: (row.disconnectedAt ?? new Date()).toISOString(),
  };
}

export function toStatusChangedEvent(
  row: ConnectionEntity,
  previousStatus: ConnectionStatusChangedV1['previousStatus'],
  now: Date,
): ConnectionStatusChangedV1 {
  return {
    connectionId: row.id,
    projectId: row.projectId,
    status: row.status,
    previousStatus,
    reason: deriveStatus(row, now).reason,
    tokenExpiresAt: row.tokenExpiresAt ? `${row.tokenExpiresAt}T00:00:00.000Z` : null,
    hook: {
      hookId: row.hookId,
      alertStatus: hookStateOf(row),
      disabledUntil: iso(row.hookDisabledUntil),
    },
    backfill: row.backfill,
    occurredAt: now.toISOString(),
  };
}
