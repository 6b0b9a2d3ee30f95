import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  ConnectionConnected,
  ConnectionDisconnected,
  ResyncRequested,
  type ConnectionMode,
} from '@testkase/contracts';
import { LOGGER, Outbox, type Logger } from '@testkase/platform';
import { AppError, tokenHint } from '@testkase/util';

import type { ConnectionConfig } from '../config/connection-service.config';
import { sealSigningToken } from '../crypto/hook-signing';
import { TokenCipher } from '../crypto/token-cipher';
import { newWebhookSecret } from '../crypto/webhook-secret';
import { GitlabClientFactory } from '../gitlab/gitlab-client.factory';
import { GitlabConnectionCheck, type VerifiedTarget } from '../gitlab/gitlab-connection-check';
import { describeFailure, HookManager } from '../gitlab/hook-manager';
import { VerifierStore } from '../messaging/verifier-store.adapter';
import { VerifierSync } from '../messaging/verifier-sync.service';
import { ConnectionRepository } from '../persistence/connection.repository';
import { ConnectionEntity, type HookRemovalRecord } from '../persistence/entities/connection.entity';
import { HookRotationRepository } from '../persistence/hook-rotation.repository';
import { CONNECTION_CONFIG } from '../shared/tokens';
import { ConnectionStateWriter } from './connection-state.writer';
import {
  applyRenewedSecret,
  rotatingVerifier,
  toConnectedEvent,
  toConnectionView,
  toDisconnectedEvent,
  toVerifier,
} from './connection.mapper';
import type { ConnectRequestDto } from './dto/connect.request.dto';
import type {
  ConnectionView,
  ConnectResponseView,
  ResyncAcceptedView,
  WebhookSetupView,
} from './dto/connection.response.dto';
import { HOOK_EVENTS, HOOK_MANAGEMENT_ACCESS_LEVEL, hookUrlFor, MINIMUM_ACCESS_LEVEL } from './gitlab-access';

export const notConnected = (projectId: string): AppError =>
  new AppError('NOT_CONNECTED', `TestKase project ${projectId} has no GitLab connection`);

const toDate = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** What to undo when a connect fails after touching GitLab or the verifier bucket. */
interface ConnectUndo {
  createdHook?: {
    target: { instanceUrl: string; token: string; caCertificate?: string | null };
    projectId: number;
    hookId: number;
  };
  verifier?: { connectionId: string; restore: ConnectionEntity | null };
}

/** The use cases of the core API: connect, read, rotate the token, disconnect, request a resync. */
@Injectable()
export class ConnectionService {
  constructor(
    @Inject(CONNECTION_CONFIG) private readonly config: ConnectionConfig,
    private readonly dataSource: DataSource,
    private readonly repository: ConnectionRepository,
    private readonly check: GitlabConnectionCheck,
    private readonly clients: GitlabClientFactory,
    private readonly hooks: HookManager,
    private readonly cipher: TokenCipher,
    private readonly verifiers: VerifierStore,
    private readonly verifierSync: VerifierSync,
    private readonly state: ConnectionStateWriter,
    private readonly outbox: Outbox,
    private readonly rotations: HookRotationRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async get(projectId: string): Promise<ConnectionView> {
    const row = await this.repository.findLive(this.dataSource, projectId);
    if (!row) throw notConnected(projectId);
    return toConnectionView(row, new Date());
  }

  async connect(projectId: string, input: ConnectRequestDto): Promise<ConnectResponseView> {
    const verified = await this.check.check({
      instanceUrl: input.instanceUrl,
      token: input.token,
      caCertificate: input.caCertificate ?? null,
      projectRef: input.projectRef,
    });
    const mode: ConnectionMode =
      verified.accessLevel >= HOOK_MANAGEMENT_ACCESS_LEVEL ? 'webhook_managed' : 'webhook_manual';
    const target = {
      instanceUrl: verified.instanceUrl,
      token: input.token,
      caCertificate: input.caCertificate ?? null,
    };
    const undo: ConnectUndo = {};
    let signedAnew: string | null = null;
    try {
      const view = await this.repository.withProjectLock(projectId, async (tx) => {
        const now = new Date();
        const live = await this.repository.findLive(tx, projectId);
        if (
          live &&
          (live.instanceUrl !== verified.instanceUrl || live.gitlabProjectId !== verified.project.id)
        ) {
          throw new AppError(
            'ALREADY_CONNECTED',
            `TestKase project ${projectId} is already connected to ${live.projectPath} on ${live.instanceUrl}; disconnect it first`,
            {
              details: {
                connectionId: live.id,
                instanceUrl: live.instanceUrl,
                gitlabProjectId: live.gitlabProjectId,
                projectPath: live.projectPath,
              },
            },
          );
        }
        const existing =
          live ??
          (await this.repository.findByTarget(tx, projectId, verified.instanceUrl, verified.project.id));
        const row = existing ?? this.newRow(projectId, now);
        const previousStatus = existing ? existing.status : null;
        undo.verifier = {
          connectionId: row.id,
          restore: existing ? Object.assign(new ConnectionEntity(), existing) : null,
        };
        row.hookUrl = hookUrlFor(this.config.PUBLIC_WEBHOOK_BASE_URL, row.id);

        let webhookSetup: WebhookSetupView | undefined;
        if (mode === 'webhook_managed') {
          const registration = await this.clients.with(target, 'interactive', (client) =>
            this.hooks.ensure(
              client,
              verified.project.id,
              existing?.mode === 'webhook_managed' ? existing.hookId : null,
              row.hookUrl,
              existing?.mode === 'webhook_managed' && existing.hookSigningCiphertext !== null,
              async (sha256, secrets) => {
                // Committed first, so that a restart can complete a rotation a crash interrupts.
                await this.rotations.begin(
                  row.id,
                  sha256,
                  row.hookSecretSha256 ?? null,
                  secrets,
                  this.cipher,
                );
                await this.verifiers.put(rotatingVerifier(row, sha256, now));
              },
              // A (re)connect renews the secrets even of a hook that looks right: its secret may have
              // been edited on GitLab, and the old one stays accepted for the grace period.
              { renew: true },
            ),
          );
          if (registration.created) {
            undo.createdHook = { target, projectId: verified.project.id, hookId: registration.hook.id };
          }
          row.hookId = registration.hook.id;
          if (registration.newSecrets) {
            applyRenewedSecret(row, registration.newSecrets.sha256, now);
            await this.rotations.finish(tx, row.id);
            sealSigningToken(row, registration.newSecrets.signingToken, this.cipher);
            if (registration.newSecrets.signingToken) signedAnew = row.id;
          }
          row.hookAlertStatus = registration.hook.alert_status ?? 'executable';
          row.hookDisabledUntil = toDate(registration.hook.disabled_until);
          row.hookCheckedAt = now;
        } else {
          // Keep a secret that already works (deliveries seen); otherwise hand out a fresh one.
          const keepSecret = !!live && live.mode === 'webhook_manual' && live.lastDeliveryAt !== null;
          const fresh = keepSecret ? null : newWebhookSecret();
          if (fresh) {
            row.hookSecretSha256 = fresh.sha256;
            row.hookSecretRenewedAt = now;
            row.hookRefusedDeliveries = 0;
            row.hookPreviousSecretSha256 = null;
            row.hookPreviousUntil = null;
          }
          sealSigningToken(row, null, this.cipher); // the admin's hook checks the secret token only
          row.hookId = null;
          row.hookAlertStatus = 'manual';
          row.hookDisabledUntil = null;
          row.hookCheckedAt = null;
          webhookSetup = this.manualSetup(row.hookUrl, fresh?.secret);
        }

        this.applyVerifiedTarget(row, verified, input.token, mode, now);
        row.caCertificate = input.caCertificate ?? null;
        if (!live) {
          row.connectedAt = now;
          row.disconnectedAt = null;
          row.lastDeliveryAt = null;
          row.backfill = null;
          row.backfillReportedAt = null;
          row.hookRemoval = null;
        }
        // A new signing key is not committed yet: the gateway checks the new secret alone until it is.
        await this.verifiers.put({ ...toVerifier(row, now), ...(signedAnew ? { signed: false } : {}) });
        await this.outbox.add(tx, ConnectionConnected, toConnectedEvent(row, existing !== null), {
          subject: row.id,
        });
        await this.state.save(tx, row, previousStatus, now);
        this.logger.info(
          {
            connectionId: row.id,
            projectId,
            gitlabProjectId: row.gitlabProjectId,
            mode,
            reconnect: existing !== null,
          },
          live ? 'connection updated' : 'connected',
        );
        return { ...toConnectionView(row, now), ...(webhookSetup ? { webhookSetup } : {}) };
      });
      // GitLab signs now and the key is committed: the gateway may ask for it.
      if (signedAnew) await this.verifierSync.announce(projectId, signedAnew);
      return view;
    } catch (error) {
      await this.undoConnect(undo);
      throw error;
    }
  }

  async rotateToken(projectId: string, token: string): Promise<ConnectionView> {
    const current = await this.repository.findLive(this.dataSource, projectId);
    if (!current) throw notConnected(projectId);
    const verified = await this.check.check({
      instanceUrl: current.instanceUrl,
      token,
      caCertificate: current.caCertificate,
      projectRef: current.gitlabProjectId,
      // A managed hook needs a token that can still manage it.
      minimumAccessLevel:
        current.mode === 'webhook_managed' ? HOOK_MANAGEMENT_ACCESS_LEVEL : MINIMUM_ACCESS_LEVEL,
    });
    return this.repository.withProjectLock(projectId, async (tx) => {
      const now = new Date();
      const row = await this.repository.findLive(tx, projectId);
      if (!row || row.id !== current.id) throw notConnected(projectId);
      const previousStatus = row.status;
      this.applyVerifiedTarget(row, verified, token, row.mode, now);
      await this.verifiers.put(toVerifier(row, now));
      await this.outbox.add(tx, ConnectionConnected, toConnectedEvent(row, true), { subject: row.id });
      await this.state.save(tx, row, previousStatus, now);
      this.logger.info({ connectionId: row.id, projectId, tokenUserId: row.tokenUserId }, 'token rotated');
      return toConnectionView(row, now);
    });
  }

  async disconnect(projectId: string): Promise<ConnectionView> {
    if (!(await this.repository.findLive(this.dataSource, projectId))) throw notConnected(projectId);
    return this.repository.withProjectLock(projectId, async (tx) => {
      const now = new Date();
      const row = await this.repository.findLive(tx, projectId);
      if (!row) throw notConnected(projectId);
      const previousStatus = row.status;
      const live = toVerifier(row, now);
      // Deliveries stop first; the hook removal below is best effort.
      await this.verifiers.put({ ...live, state: 'disconnected' });
      try {
        row.hookRemoval = await this.removeHook(row, now);
        row.disconnectedAt = now;
        row.tokenCiphertext = null;
        row.tokenKeyId = null;
        sealSigningToken(row, null, this.cipher);
        await this.outbox.add(tx, ConnectionDisconnected, toDisconnectedEvent(row), { subject: row.id });
        await this.state.save(tx, row, previousStatus, now);
      } catch (error) {
        await this.verifiers.put(live).catch(() => undefined);
        throw error;
      }
      this.logger.info(
        { connectionId: row.id, projectId, hookRemoval: row.hookRemoval.outcome },
        'disconnected',
      );
      return toConnectionView(row, now);
    });
  }

  async resync(projectId: string): Promise<ResyncAcceptedView> {
    return this.dataSource.transaction(async (tx) => {
      const row = await this.repository.findLive(tx, projectId);
      if (!row) throw notConnected(projectId);
      const requestedAt = new Date().toISOString();
      const event = await this.outbox.add(
        tx,
        ResyncRequested,
        { connectionId: row.id, projectId, scope: 'full', requestedAt },
        { subject: row.id },
      );
      return { connectionId: row.id, eventId: event.id, requestedAt };
    });
  }

  private newRow(projectId: string, now: Date): ConnectionEntity {
    return Object.assign(new ConnectionEntity(), {
      id: randomUUID(),
      projectId,
      platform: 'gitlab' as const,
      hookId: null,
      hookDisabledUntil: null,
      hookCheckedAt: null,
      hookRemoval: null,
      lastDeliveryAt: null,
      lastError: null,
      authFailedAt: null,
      backfill: null,
      backfillReportedAt: null,
      disconnectedAt: null,
      hookSigningKeyId: null,
      hookSigningCiphertext: null,
      hookRefusedDeliveries: 0,
      hookLastRefusedAt: null,
      hookSecretRenewedAt: null,
      hookPreviousSecretSha256: null,
      hookPreviousUntil: null,
      createdAt: now,
    });
  }

  private applyVerifiedTarget(
    row: ConnectionEntity,
    verified: VerifiedTarget,
    token: string,
    mode: ConnectionMode,
    now: Date,
  ): void {
    const sealed = this.cipher.encrypt(token, row.id);
    Object.assign(row, {
      instanceUrl: verified.instanceUrl,
      gitlabProjectId: verified.project.id,
      projectPath: verified.project.path,
      projectWebUrl: verified.project.webUrl,
      mode,
      tokenKeyId: sealed.keyId,
      tokenCiphertext: sealed.ciphertext,
      tokenHint: tokenHint(token),
      tokenScopes: verified.token.scopes,
      tokenExpiresAt: verified.token.expiresAt,
      checkWarnings: verified.token.warnings,
      tokenUserId: verified.user.id,
      tokenUsername: verified.user.username,
      tokenUpdatedAt: now,
      accessLevel: verified.accessLevel,
      authFailedAt: null,
      lastError: null,
      healthCheckedAt: now,
    });
  }

  private manualSetup(url: string, secret: string | undefined): WebhookSetupView {
    return {
      url,
      ...(secret ? { secret } : {}),
      events: HOOK_EVENTS.map((event) => ({ ...event })),
      enableSslVerification: true,
      instructions: secret
        ? 'In GitLab, open Settings → Webhooks → Add new webhook. Enter this URL and secret token, tick exactly these events, keep SSL verification on. The secret is shown only now.'
        : 'The webhook already delivers with the secret given earlier; nothing to change. To get a new secret, disconnect and connect again.',
    };
  }

  private async removeHook(row: ConnectionEntity, now: Date): Promise<HookRemovalRecord> {
    if (row.mode === 'webhook_manual' || row.hookId === null) {
      return {
        outcome: 'manual',
        detail: `Remove the webhook ${row.hookUrl} in GitLab (Settings → Webhooks); deliveries to it are refused from now on`,
        at: now.toISOString(),
      };
    }
    const hookId = row.hookId;
    try {
      const token = this.cipher.decrypt(
        { keyId: row.tokenKeyId ?? '', ciphertext: row.tokenCiphertext ?? '' },
        row.id,
      );
      return await this.clients.with(
        { instanceUrl: row.instanceUrl, token, caCertificate: row.caCertificate },
        'interactive',
        (client) => this.hooks.remove(client, row.gitlabProjectId, hookId, now),
      );
    } catch (error) {
      this.logger.warn({ err: error, connectionId: row.id }, 'could not remove the GitLab hook');
      return { outcome: 'failed', detail: describeFailure(error), at: now.toISOString() };
    }
  }

  private async undoConnect(undo: ConnectUndo): Promise<void> {
    if (undo.createdHook) {
      const { target, projectId, hookId } = undo.createdHook;
      await this.clients
        .with(target, 'interactive', (client) => this.hooks.remove(client, projectId, hookId, new Date()))
        .catch(() => undefined);
    }
    if (undo.verifier) {
      const { connectionId, restore } = undo.verifier;
      const reverting =
        restore && restore.hookSecretSha256
          ? this.verifiers.put(toVerifier(restore, new Date()))
          : this.verifiers.remove(connectionId);
      await reverting.catch((error: unknown) =>
        this.logger.warn(
          { err: error, connectionId },
          'could not restore the webhook verifier after a failed connect',
        ),
      );
    }
  }
}
