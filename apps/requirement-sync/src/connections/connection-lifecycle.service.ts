import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { ConnectionConnectedV1, ConnectionDisconnectedV1, ResyncRequestedV1 } from '@testkase/contracts';
import { Inbox, LOGGER, Outbox, type Logger } from '@testkase/platform';

import { asOutcomes, requirementEvents } from '../requirements/requirement-events';
import { RequirementRepository } from '../requirements/requirement.repository';
import { SyncScheduler } from '../sync/sync-scheduler.service';
import { projectContextOf } from './connection.record';
import { ConnectionRepository } from './connection.repository';
import { GitlabAccess } from './gitlab-access.service';

export const CONNECTIONS_CONSUMER = 'requirement-sync-connections';

/** Requirements changed per statement while (de)attaching: bounds memory, not the transaction. */
const BATCH = 1_000;

/**
 * What a connection's lifecycle does to its requirements: a connect re-attaches the requirements
 * of the same GitLab project (instance + project id) and detaches those of another one; a
 * disconnect detaches all of them (they stay, and TestKase may edit them). Each handler runs in
 * one transaction with its inbox entry, behind the connection's exclusive gate, so no event or
 * job of that connection writes in between.
 */
@Injectable()
export class ConnectionLifecycleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionRepository,
    private readonly requirements: RequirementRepository,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly access: GitlabAccess,
    private readonly scheduler: SyncScheduler,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async connected(eventId: string, event: ConnectionConnectedV1): Promise<void> {
    const result = await this.dataSource.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, CONNECTIONS_CONSUMER, eventId))) return null;
      await this.connections.closeGate(tx, event.connectionId);
      const { connection, applied, fresh } = await this.connections.applyConnected(tx, event);
      if (!applied) return null;
      const at = new Date(event.connectedAt);
      for (const other of await this.connections.othersActiveForProject(
        tx,
        event.projectId,
        event.connectionId,
      )) {
        await this.connections.closeGate(tx, other.connection_id);
        await this.connections.markSuperseded(tx, other.connection_id, at);
      }
      const context = projectContextOf(connection);
      const detached = await this.inBatches(tx, (limit) =>
        this.requirements.detachBatch(
          tx,
          {
            projectId: event.projectId,
            exceptGitlabProject: {
              instanceUrl: context.instanceUrl,
              gitlabProjectId: context.gitlabProjectId,
            },
          },
          limit,
        ),
      );
      const attached = await this.inBatches(tx, (limit) => this.requirements.attachBatch(tx, context, limit));
      // Issues deleted while we were away are only found by a full sweep (after the backfill).
      if (attached > 0) await this.connections.requestFullSweep(tx, event.connectionId);
      return { fresh, detached, attached };
    });
    this.access.forget(event.connectionId);
    if (result) {
      this.logger.info(
        { connectionId: event.connectionId, projectId: event.projectId, ...result },
        'connection connected',
      );
      this.scheduler.wake();
    }
  }

  async disconnected(eventId: string, event: ConnectionDisconnectedV1): Promise<void> {
    const detached = await this.dataSource.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, CONNECTIONS_CONSUMER, eventId))) return null;
      await this.connections.closeGate(tx, event.connectionId);
      const { applied } = await this.connections.applyDisconnected(tx, event);
      if (!applied) return null;
      return this.inBatches(tx, (limit) =>
        this.requirements.detachBatch(tx, { connectionId: event.connectionId }, limit),
      );
    });
    this.access.forget(event.connectionId);
    if (detached !== null) {
      this.logger.info(
        { connectionId: event.connectionId, detached },
        'connection disconnected; requirements detached',
      );
    }
  }

  async resyncRequested(eventId: string, event: ResyncRequestedV1): Promise<void> {
    const requested = await this.dataSource.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, CONNECTIONS_CONSUMER, eventId))) return false;
      return this.connections.requestFullSweep(tx, event.connectionId);
    });
    if (requested) {
      this.logger.info({ connectionId: event.connectionId }, 'full sweep requested');
      this.scheduler.wake();
    }
  }

  /** Repeats a batched UPDATE until it changes nothing, staging the events of each batch. */
  private async inBatches(
    tx: EntityManager,
    batch: (limit: number) => Promise<Parameters<typeof asOutcomes>[0]>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const records = await batch(BATCH);
      if (records.length === 0) return total;
      total += records.length;
      await this.outbox.addMany(tx, requirementEvents(asOutcomes(records)).messages);
      if (records.length < BATCH) return total;
    }
  }
}
