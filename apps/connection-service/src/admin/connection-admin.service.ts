import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { ConnectionPauseChanged, ResyncRequested } from '@testkase/contracts';
import { LOGGER, Outbox, type Logger } from '@testkase/platform';
import { AppError } from '@testkase/util';

import { TokenCipher } from '../crypto/token-cipher';
import { reencryptTokens, type ReencryptionResult } from '../crypto/token-reencryption';
import { SCHEMA } from '../persistence/schema';

/** A connection as the admin API shows it (docs/ADMIN-API.md). */
export interface AdminConnectionView {
  connectionId: string;
  projectId: string;
  status: string;
  paused: boolean;
  pausedAt: string | null;
  pauseChangedAt: string | null;
  disconnectedAt: string | null;
}

interface Row {
  id: string;
  project_id: string;
  status: string;
  paused_at: Date | null;
  pause_changed_at: Date | null;
  disconnected_at: Date | null;
}

const viewOf = (row: Row): AdminConnectionView => ({
  connectionId: row.id,
  projectId: row.project_id,
  status: row.status,
  paused: row.paused_at !== null,
  pausedAt: row.paused_at?.toISOString() ?? null,
  pauseChangedAt: row.pause_changed_at?.toISOString() ?? null,
  disconnectedAt: row.disconnected_at?.toISOString() ?? null,
});

const notFound = (connectionId: string) =>
  new AppError('NOT_FOUND', `no connection ${connectionId}`, { details: { connectionId } });

/**
 * Operator actions on connections (docs/ADMIN-API.md): force a resync, pause and resume the sync,
 * re-encrypt the stored secrets after a key rotation. Pause state lives on the connection; the
 * consumers learn it from `integration.connection.pause_changed` (written in the same transaction).
 */
@Injectable()
export class ConnectionAdminService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly cipher: TokenCipher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private async lock(tx: EntityManager, connectionId: string): Promise<Row> {
    const rows: Row[] = await tx.query(
      `SELECT id, project_id, status, paused_at, pause_changed_at, disconnected_at
         FROM "${SCHEMA}".connections WHERE id = $1 FOR UPDATE`,
      [connectionId],
    );
    const row = rows[0];
    if (!row) throw notFound(connectionId);
    return row;
  }

  async get(connectionId: string): Promise<AdminConnectionView> {
    return this.dataSource.transaction(async (tx) => viewOf(await this.lock(tx, connectionId)));
  }

  /** A full reconciliation now (the same event as the core API's resync). */
  async resync(
    connectionId: string,
  ): Promise<{ connectionId: string; eventId: string; requestedAt: string }> {
    return this.dataSource.transaction(async (tx) => {
      const row = await this.lock(tx, connectionId);
      if (row.disconnected_at) {
        throw new AppError('NOT_CONNECTED', `connection ${connectionId} is disconnected`, {
          details: { connectionId },
        });
      }
      const requestedAt = new Date().toISOString();
      const event = await this.outbox.add(
        tx,
        ResyncRequested,
        { connectionId: row.id, projectId: row.project_id, scope: 'full', requestedAt },
        { subject: row.id },
      );
      this.logger.info({ connectionId, eventId: event.id }, 'admin: resync requested');
      return { connectionId: row.id, eventId: event.id, requestedAt };
    });
  }

  /** Pauses (true) or resumes (false) the connection's sync; a no-op when already so. */
  async setPaused(
    connectionId: string,
    paused: boolean,
  ): Promise<AdminConnectionView & { changed: boolean }> {
    return this.dataSource.transaction(async (tx) => {
      const row = await this.lock(tx, connectionId);
      if (row.disconnected_at) {
        throw new AppError('NOT_CONNECTED', `connection ${connectionId} is disconnected`, {
          details: { connectionId },
        });
      }
      if ((row.paused_at !== null) === paused) return { ...viewOf(row), changed: false };
      // Strictly after the last change, so that the consumers' forward-only rule orders them.
      const previous = row.pause_changed_at?.getTime() ?? 0;
      const changedAt = new Date(Math.max(Date.now(), previous + 1));
      const [updated]: Row[] = (
        await tx.query(
          `UPDATE "${SCHEMA}".connections SET paused_at = $2, pause_changed_at = $3, updated_at = now()
            WHERE id = $1
            RETURNING id, project_id, status, paused_at, pause_changed_at, disconnected_at`,
          [connectionId, paused ? changedAt : null, changedAt],
        )
      )[0] as Row[];
      await this.outbox.add(
        tx,
        ConnectionPauseChanged,
        { connectionId, projectId: row.project_id, paused, changedAt: changedAt.toISOString() },
        { subject: connectionId },
      );
      this.logger.info({ connectionId, paused }, paused ? 'admin: sync paused' : 'admin: sync resumed');
      return { ...viewOf(updated as Row), changed: true };
    });
  }

  /** Moves every stored secret to the first key of TOKEN_ENCRYPTION_KEYS (reencrypt-tokens). */
  async reencrypt(): Promise<ReencryptionResult & { keyId: string }> {
    const result = await reencryptTokens(this.dataSource, this.cipher, this.logger);
    this.logger.info(
      { moved: result.moved, failed: result.failed.length, keyId: this.cipher.primaryKeyId },
      'admin: secrets re-encrypted',
    );
    return { ...result, keyId: this.cipher.primaryKeyId };
  }
}
