import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { ConnectionStatusChanged, type ConnectionStatus } from '@testkase/contracts';
import { Outbox } from '@testkase/platform';

import { ConnectionRepository } from '../persistence/connection.repository';
import type { ConnectionEntity } from '../persistence/entities/connection.entity';
import { deriveStatus } from './connection-status';
import { toStatusChangedEvent } from './connection.mapper';

/**
 * Saves a connection after a change and derives its status again; when the status moved (or the
 * caller has news such as backfill progress) the `testkase.connection.status_changed` event is
 * staged in the same transaction.
 */
@Injectable()
export class ConnectionStateWriter {
  constructor(
    private readonly repository: ConnectionRepository,
    private readonly outbox: Outbox,
  ) {}

  /** @returns whether the status changed */
  async save(
    tx: EntityManager,
    row: ConnectionEntity,
    previousStatus: ConnectionStatus | null,
    now: Date,
    options: { announce?: boolean } = {},
  ): Promise<boolean> {
    row.status = deriveStatus(row, now).status;
    row.updatedAt = now;
    await this.repository.save(tx, row);
    const changed = row.status !== previousStatus;
    if (changed || options.announce) {
      await this.outbox.add(tx, ConnectionStatusChanged, toStatusChangedEvent(row, previousStatus, now), {
        subject: row.id,
      });
    }
    return changed;
  }
}
