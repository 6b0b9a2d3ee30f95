import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import {
  ConnectionEventsConsumer,
  type ConnectionChangeKind,
  type ConnectionLifecycleHooks,
} from '@testkase/consumer-kit';
import { Outbox } from '@testkase/platform';

import { asOutcomes, requirementEvents } from '../requirements/requirement-events';
import { RequirementRepository } from '../requirements/requirement.repository';
import { SyncScheduler } from '../sync/sync-scheduler.service';
import { projectContextOf, type ConnectionRecord } from './connection.record';
import { ConnectionRepository } from './connection.repository';

/** Requirements changed per statement while (de)attaching: bounds memory, not the transaction. */
const BATCH = 1_000;

/**
 * What a connection's lifecycle does to its requirements (the consumer kit runs each in one
 * transaction with its inbox entry, behind the connection's exclusive gate, so no event or job of
 * that connection writes in between): a connect re-attaches the requirements of the same GitLab
 * project (instance + project id) and detaches those of another one; a disconnect detaches all of
 * them (they stay, and TestKase may edit them); a resync request asks for a full sweep.
 */
@Injectable()
export class ConnectionLifecycleService implements ConnectionLifecycleHooks<ConnectionRecord>, OnModuleInit {
  constructor(
    private readonly connectionEvents: ConnectionEventsConsumer,
    private readonly connections: ConnectionRepository,
    private readonly requirements: RequirementRepository,
    private readonly outbox: Outbox,
    private readonly scheduler: SyncScheduler,
  ) {}

  onModuleInit(): void {
    this.connectionEvents.register(this);
  }

  async connected(
    tx: EntityManager,
    change: { connection: ConnectionRecord; fresh: boolean },
  ): Promise<Record<string, unknown>> {
    const { connection, fresh } = change;
    await this.connections.resetProgress(tx, connection.connection_id, fresh);
    const context = projectContextOf(connection);
    const detached = await this.inBatches(tx, (limit) =>
      this.requirements.detachBatch(
        tx,
        {
          projectId: context.projectId,
          exceptGitlabProject: { instanceUrl: context.instanceUrl, gitlabProjectId: context.gitlabProjectId },
        },
        limit,
      ),
    );
    const attached = await this.inBatches(tx, (limit) => this.requirements.attachBatch(tx, context, limit));
    // Issues deleted while we were away are only found by a full sweep (after the backfill).
    if (attached > 0) await this.connections.requestFullSweep(tx, connection.connection_id);
    return { projectId: context.projectId, fresh, detached, attached };
  }

  async disconnected(
    tx: EntityManager,
    change: { connection: ConnectionRecord },
  ): Promise<Record<string, unknown>> {
    const connectionId = change.connection.connection_id;
    const detached = await this.inBatches(tx, (limit) =>
      this.requirements.detachBatch(tx, { connectionId }, limit),
    );
    return { detached };
  }

  async resyncRequested(
    tx: EntityManager,
    event: { connectionId: string },
  ): Promise<Record<string, unknown> | null> {
    return (await this.connections.requestFullSweep(tx, event.connectionId)) ? { scope: 'full' } : null;
  }

  afterCommit(_connectionId: string, event: ConnectionChangeKind): void {
    if (event !== 'disconnected') this.scheduler.wake();
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
