import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { LOGGER, NatsClient, type Logger } from '@testkase/platform';

import { rotatingVerifier, toVerifier } from '../connection/connection.mapper';
import { ConnectionRepository } from '../persistence/connection.repository';
import { HookRotationRepository } from '../persistence/hook-rotation.repository';
import { VerifierStore } from './verifier-store.adapter';

/**
 * On every (re)connect to NATS: creates the verifier bucket if missing and writes every live
 * connection's verifier again, which repairs a bucket the server lost. Each write happens under the
 * project's lock, so it cannot overtake a concurrent disconnect.
 */
@Injectable()
export class VerifierSync implements OnApplicationBootstrap {
  private running?: Promise<unknown>;

  constructor(
    private readonly nats: NatsClient,
    private readonly store: VerifierStore,
    private readonly dataSource: DataSource,
    private readonly repository: ConnectionRepository,
    private readonly rotations: HookRotationRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.onConnected(() => {
      this.running ??= this.republish().finally(() => (this.running = undefined));
    });
  }

  async republish(): Promise<number> {
    try {
      await this.store.open();
      const live = await this.repository.listLive(this.dataSource);
      let written = 0;
      for (const candidate of live) {
        if (await this.republishOne(candidate.projectId, candidate.id)) written += 1;
      }
      this.logger.info({ connections: written }, 'webhook verifiers published');
      return written;
    } catch (error) {
      this.logger.error({ err: error }, 'could not publish the webhook verifiers');
      return 0;
    }
  }

  /**
   * Writes one connection's verifier as committed, under the project's lock (so it cannot overtake
   * a concurrent disconnect). Returns false when the connection is no longer the project's live one.
   */
  /**
   * Tells the gateway about a change committed a moment ago (a hook now signed: the gateway then
   * asks for its key). Never throws: if NATS is down, the republish on reconnect does it.
   */
  async announce(projectId: string, connectionId: string): Promise<void> {
    await this.republishOne(projectId, connectionId).catch((error: unknown) =>
      this.logger.warn({ err: error, connectionId }, 'could not publish the webhook verifier'),
    );
  }

  async republishOne(projectId: string, connectionId: string): Promise<boolean> {
    return this.repository.withProjectLock(projectId, async (tx) => {
      const row = await this.repository.findLive(tx, projectId);
      if (row?.id !== connectionId) return false;
      // A rotation a crash interrupted: GitLab may already send the new secret; accept both until
      // the health job completes it.
      const pending =
        row.mode === 'webhook_managed' ? await this.rotations.pendingSecretSha256(tx, row.id) : null;
      const now = new Date();
      await this.store.put(
        pending && pending !== row.hookSecretSha256
          ? rotatingVerifier(row, pending, now)
          : toVerifier(row, now),
      );
      return true;
    });
  }
}
