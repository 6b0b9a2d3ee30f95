import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { GitlabClient, GitlabHook } from '@testkase/gitlab';
import { LOGGER, MetricsRegistry, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import type { ConnectionConfig } from '../config/connection-service.config';
import { ConnectionStateWriter } from '../connection/connection-state.writer';
import { applyRenewedSecret, rotatingVerifier } from '../connection/connection.mapper';
import { sealSigningToken } from '../crypto/hook-signing';
import { TokenCipher } from '../crypto/token-cipher';
import { GitlabClientFactory } from '../gitlab/gitlab-client.factory';
import { describeFailure, HookManager, signingDiffers } from '../gitlab/hook-manager';
import { inspectToken } from '../gitlab/token-inspection';
import { VerifierStore } from '../messaging/verifier-store.adapter';
import { VerifierSync } from '../messaging/verifier-sync.service';
import { ConnectionRepository } from '../persistence/connection.repository';
import type { ConnectionEntity } from '../persistence/entities/connection.entity';
import { HookRotationRepository, type PendingRotation } from '../persistence/hook-rotation.repository';
import { CONNECTION_CONFIG } from '../shared/tokens';

const BATCH = 50;
/**
 * A rotation still recorded this long after it started was interrupted (a crash): one takes at most
 * three GitLab requests (find, list, update), each within GITLAB_REQUEST_TIMEOUT.
 */
const rotationStaleMs = (requestTimeoutMs: number): number => 3 * requestTimeoutMs + 5_000;
const ROTATION_GIVE_UP_MS = 24 * 60 * 60_000;
const isAuthFailure = (error: unknown) =>
  isAppError(error) && (error.code === 'AUTH_FAILED' || error.code === 'TOKEN_EXPIRED');
const toDate = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/**
 * Watches every live connection, once per HEALTH_CHECK_INTERVAL across all replicas: the token
 * (still accepted? new expiry? on a GitLab before 15.5, what its token list settles) and, for a managed hook, GitLab's `alert_status`/`disabled_until`.
 * A disabled hook is reported (hook_disabled) and re-enabled with a test delivery; a deleted one is
 * created again. Each connection is checked under its row lock, skipped if another replica holds it.
 */
@Injectable()
export class ConnectionHealthJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private readonly checks;

  constructor(
    @Inject(CONNECTION_CONFIG) private readonly config: ConnectionConfig,
    private readonly dataSource: DataSource,
    private readonly repository: ConnectionRepository,
    private readonly clients: GitlabClientFactory,
    private readonly hooks: HookManager,
    private readonly cipher: TokenCipher,
    private readonly verifiers: VerifierStore,
    private readonly verifierSync: VerifierSync,
    private readonly state: ConnectionStateWriter,
    private readonly rotations: HookRotationRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    this.checks = metrics.counter('connection_health_checks_total', 'Connection health checks by outcome', [
      'outcome',
    ]);
  }

  onApplicationBootstrap(): void {
    const tickMs = Math.min(Math.max(Math.floor(this.config.HEALTH_CHECK_INTERVAL / 4), 500), 60_000);
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.runDue()
      .catch((error: unknown) => this.logger.error({ err: error }, 'health round failed'))
      .finally(() => (this.running = undefined));
  }

  /** Checks every connection that is due. Returns how many this replica checked. */
  async runDue(): Promise<number> {
    await this.completeInterruptedRotations();
    let checked = 0;
    for (const id of await this.repository.dueForHealthCheck(this.config.HEALTH_CHECK_INTERVAL, BATCH)) {
      if (this.stopped) break;
      if (await this.checkOne(id)) checked += 1;
    }
    return checked;
  }

  /** @returns false when the connection was not due, gone, or locked by someone else */
  async checkOne(id: string): Promise<boolean> {
    const signedAnew = { projectId: '' };
    try {
      const checked = await this.dataSource.transaction(async (tx) => {
        const row = await this.repository.lockLiveById(tx, id, true);
        const now = new Date();
        if (
          !row ||
          (row.healthCheckedAt &&
            now.getTime() - row.healthCheckedAt.getTime() < this.config.HEALTH_CHECK_INTERVAL * 0.9)
        ) {
          return false;
        }
        const signingBefore = row.hookSigningCiphertext;
        await this.check(tx, row, now);
        if (row.hookSigningCiphertext !== null && row.hookSigningCiphertext !== signingBefore) {
          signedAnew.projectId = row.projectId;
        }
        return true;
      });
      // The gateway learns that GitLab signs once the key is committed (it then asks for it).
      if (signedAnew.projectId) await this.verifierSync.announce(signedAnew.projectId, id);
      return checked;
    } catch (error) {
      this.checks.inc({ outcome: 'error' });
      this.logger.error({ err: error, connectionId: id }, 'health check failed');
      return false;
    }
  }

  /**
   * Rotations a crash interrupted (still recorded well after they started, see rotationStaleMs):
   * GitLab may hold the old secrets or the new ones, and the connection the old. The gateway is
   * told to accept both, GitLab gets the new ones again, and the connection records them.
   */
  async completeInterruptedRotations(): Promise<number> {
    let completed = 0;
    let interrupted: PendingRotation[];
    try {
      interrupted = await this.rotations.stale(
        rotationStaleMs(this.config.GITLAB_REQUEST_TIMEOUT),
        this.cipher,
      );
    } catch (error) {
      // Never holds up the health checks (a sealed rotation whose key left the ring, for one).
      this.logger.error({ err: error }, 'could not read the interrupted hook rotations');
      return 0;
    }
    for (const pending of interrupted) {
      if (this.stopped) break;
      try {
        if (await this.completeRotation(pending)) completed += 1;
      } catch (error) {
        this.logger.error(
          { err: error, connectionId: pending.connectionId },
          'could not complete a rotation',
        );
      }
    }
    return completed;
  }

  private async completeRotation(pending: PendingRotation): Promise<boolean> {
    let projectId: string | null = null;
    await this.dataSource.transaction(async (tx) => {
      if (Date.now() - pending.startedAt.getTime() > ROTATION_GIVE_UP_MS) {
        // GitLab kept refusing for a day: the refusals the gateway reports repair the hook instead.
        this.logger.warn({ connectionId: pending.connectionId }, 'giving up an interrupted hook rotation');
        await this.rotations.finish(tx, pending.connectionId);
        return;
      }
      const row = await this.repository.lockLiveById(tx, pending.connectionId, true);
      if (!row) {
        // Locked: a rotation still under way, or a check; next round. Gone or disconnected: drop it.
        const any = await this.repository.findById(tx, pending.connectionId);
        if (!any || any.disconnectedAt) await this.rotations.finish(tx, pending.connectionId);
        return;
      }
      if (row.mode !== 'webhook_managed' || !row.tokenCiphertext || !row.tokenKeyId) {
        await this.rotations.finish(tx, row.id);
        return;
      }
      const now = new Date();
      const token = this.cipher.decrypt({ keyId: row.tokenKeyId, ciphertext: row.tokenCiphertext }, row.id);
      // Until GitLab answers, the gateway accepts the secret the connection has and the new one.
      await this.verifiers.put(rotatingVerifier(row, pending.newSecretSha256, now));
      const resent = await this.clients.with(
        { instanceUrl: row.instanceUrl, token, caCertificate: row.caCertificate },
        'background',
        (client) => this.hooks.resend(client, row.gitlabProjectId, row.hookId, row.hookUrl, pending.secrets),
      );
      if (resent) {
        row.hookId = resent.hook.id;
        applyRenewedSecret(row, pending.newSecretSha256, now);
        sealSigningToken(row, resent.signingToken, this.cipher);
      }
      await this.rotations.finish(tx, row.id);
      await this.state.save(tx, row, row.status, now);
      projectId = row.projectId;
      this.logger.info(
        { connectionId: row.id, resent: resent !== null },
        'interrupted hook rotation completed',
      );
    });
    // The committed verifier (both secrets during the grace period; signed once the key is committed).
    if (projectId) await this.verifierSync.announce(projectId, pending.connectionId);
    return projectId !== null;
  }

  private async check(tx: EntityManager, row: ConnectionEntity, now: Date): Promise<void> {
    row.healthCheckedAt = now;
    if (!row.tokenCiphertext || !row.tokenKeyId) return;
    const token = this.cipher.decrypt({ keyId: row.tokenKeyId, ciphertext: row.tokenCiphertext }, row.id);
    let outcome = 'ok';
    try {
      await this.clients.with(
        { instanceUrl: row.instanceUrl, token, caCertificate: row.caCertificate },
        'background',
        async (client) => {
          const facts = await inspectToken(client, () => client.users.current(), now);
          row.tokenScopes = facts.scopes;
          row.tokenExpiresAt = facts.expiresAt;
          row.checkWarnings = facts.warnings;
          row.authFailedAt = null;
          if (row.lastError?.code === 'AUTH_FAILED') row.lastError = null;
          if (row.mode === 'webhook_managed') outcome = await this.checkHook(tx, client, row, now);
        },
      );
    } catch (error) {
      if (isAuthFailure(error)) {
        outcome = 'auth_failed';
        row.authFailedAt ??= now;
      } else {
        outcome = 'unreachable';
      }
      row.lastError = {
        code: isAppError(error) ? error.code : 'INTERNAL',
        message: describeFailure(error),
        at: now.toISOString(),
      };
      this.logger.warn({ err: error, connectionId: row.id }, 'health check could not reach GitLab');
    }
    // row.status is what was last saved (a disabled hook may have been reported on the way).
    await this.state.save(tx, row, row.status, now);
    this.checks.inc({ outcome });
  }

  /** Reads the hook; reports and repairs a disabled or missing one. */
  private async checkHook(
    tx: EntityManager,
    client: GitlabClient,
    row: ConnectionEntity,
    now: Date,
  ): Promise<string> {
    const projectId = row.gitlabProjectId;
    const hook = row.hookId === null ? null : await this.hooks.find(client, projectId, row.hookId);
    row.hookCheckedAt = now;
    if (!hook || hook.url !== row.hookUrl) {
      await this.markHook(
        tx,
        row,
        hook ? this.hookState(hook) : { alertStatus: 'missing', disabledUntil: null },
        now,
      );
      await this.recreate(tx, client, row, hook === null ? null : hook.id, now);
      return hook ? 'hook_repointed' : 'hook_recreated';
    }
    if (signingDiffers(hook, row.hookSigningCiphertext !== null)) {
      // Someone changed the signing token in GitLab (or turned the feature off): new secrets.
      await this.recreate(tx, client, row, hook.id, now);
      return 'hook_secrets_renewed';
    }
    if (row.hookRefusedDeliveries > 0) {
      // The gateway refused deliveries of this hook: GitLab holds a secret we do not (edited in its
      // UI). New secrets, then the hook is re-enabled below if GitLab disabled it meanwhile.
      this.logger.warn(
        { connectionId: row.id, hookId: hook.id, refused: row.hookRefusedDeliveries },
        'deliveries were refused: renewing the hook secret',
      );
      await this.recreate(tx, client, row, hook.id, now, true);
      const renewed = this.hookState(hook);
      if (renewed.alertStatus !== 'temporarily_disabled' && renewed.alertStatus !== 'disabled') {
        return 'hook_secrets_renewed';
      }
    }
    const state = this.hookState(hook);
    if (state.alertStatus !== 'temporarily_disabled' && state.alertStatus !== 'disabled') {
      row.hookAlertStatus = state.alertStatus;
      row.hookDisabledUntil = state.disabledUntil;
      return 'ok';
    }
    // Report first (its own status event), then try to bring it back.
    await this.markHook(tx, row, state, now);
    const reenabled = await this.hooks.reenable(client, projectId, hook.id);
    if (reenabled === 'nothing_to_send' && state.alertStatus === 'disabled') {
      // A permanently disabled hook in a project with nothing to test with: replace the hook.
      await client.hooks.delete(projectId, hook.id).catch(() => undefined);
      await this.recreate(tx, client, row, null, now);
      return 'hook_recreated';
    }
    const after = await this.hooks.find(client, projectId, hook.id);
    const next = after ? this.hookState(after) : { alertStatus: 'missing', disabledUntil: null };
    row.hookAlertStatus = next.alertStatus;
    row.hookDisabledUntil = next.disabledUntil;
    if (next.alertStatus === 'executable')
      this.logger.info({ connectionId: row.id, hookId: hook.id }, 'hook re-enabled');
    return next.alertStatus === 'executable' ? 'hook_reenabled' : 'hook_disabled';
  }

  private async recreate(
    tx: EntityManager,
    client: GitlabClient,
    row: ConnectionEntity,
    hookId: number | null,
    now: Date,
    renew = false,
  ): Promise<void> {
    const registration = await this.hooks.ensure(
      client,
      row.gitlabProjectId,
      hookId,
      row.hookUrl,
      row.hookSigningCiphertext !== null,
      async (sha256, secrets) => {
        // Committed first, so that a restart can complete a rotation a crash interrupts.
        await this.rotations.begin(row.id, sha256, row.hookSecretSha256, secrets, this.cipher);
        await this.verifiers.put(rotatingVerifier(row, sha256, now));
      },
      { renew },
    );
    row.hookId = registration.hook.id;
    if (registration.newSecrets) {
      applyRenewedSecret(row, registration.newSecrets.sha256, now);
      await this.rotations.finish(tx, row.id);
      sealSigningToken(row, registration.newSecrets.signingToken, this.cipher);
    }
    const state = this.hookState(registration.hook);
    row.hookAlertStatus = state.alertStatus;
    row.hookDisabledUntil = state.disabledUntil;
    this.logger.info({ connectionId: row.id, hookId: row.hookId }, 'hook registered again');
  }

  private async markHook(
    tx: EntityManager,
    row: ConnectionEntity,
    state: { alertStatus: string; disabledUntil: Date | null },
    now: Date,
  ): Promise<void> {
    row.hookAlertStatus = state.alertStatus;
    row.hookDisabledUntil = state.disabledUntil;
    await this.state.save(tx, row, row.status, now);
  }

  private hookState(hook: GitlabHook): { alertStatus: string; disabledUntil: Date | null } {
    return { alertStatus: hook.alert_status ?? 'executable', disabledUntil: toDate(hook.disabled_until) };
  }
}
