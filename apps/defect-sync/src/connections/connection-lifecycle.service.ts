import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import {
  ConnectionEventsConsumer,
  projectContextOf,
  type ConnectedChange,
  type ConnectionChangeKind,
  type ConnectionLifecycleHooks,
} from '@testkase/consumer-kit';
import type { ResyncRequestedV1 } from '@testkase/contracts';
import { Outbox } from '@testkase/platform';

import { pushFailedEvents } from '../defects/defect-events';
import type { DefectRecord } from '../defects/defect.record';
import { DefectRepository } from '../defects/defect.repository';
import { DefectJobs } from '../lane/defect-jobs.service';
import type { DefectConnectionRecord } from './connection.record';
import { SweepStateRepository } from './sweep-state.repository';

/**
 * What a connection's lifecycle does to defects (the consumer kit runs each in one transaction with
 * its inbox entry, behind the connection's exclusive gate): a disconnect detaches them — sync stops,
 * the issues stay in GitLab, the links stay readable, a push not yet made fails NOT_CONNECTED; a
 * connect to the same GitLab project (instance and project id) re-attaches them by their issue and
 * reconciles them with a full sweep; a new token makes what waited for one due again.
 */
@Injectable()
export class ConnectionLifecycleService
  implements ConnectionLifecycleHooks<DefectConnectionRecord>, OnModuleInit
{
  constructor(
    private readonly connectionEvents: ConnectionEventsConsumer,
    private readonly defects: DefectRepository,
    private readonly state: SweepStateRepository,
    private readonly jobs: DefectJobs,
    private readonly outbox: Outbox,
  ) {}

  onModuleInit(): void {
    this.connectionEvents.register(this);
  }

  async connected(
    tx: EntityManager,
    change: ConnectedChange<DefectConnectionRecord> & { superseded: readonly DefectConnectionRecord[] },
  ): Promise<Record<string, unknown>> {
    const { connection, fresh } = change;
    const connectionId = connection.connection_id;
    if (fresh) await this.state.reset(tx, connectionId);
    const attached = await this.defects.attach(tx, projectContextOf(connection));
    let detached = 0;
    for (const other of change.superseded) detached += await this.detach(tx, other.connection_id);
    if (attached > 0) await this.state.requestFullSweep(tx, connectionId);
    const retried = await this.defects.retryAfterNewToken(tx, connectionId);
    return { projectId: connection.project_id, fresh, attached, detached, retried };
  }

  async disconnected(
    tx: EntityManager,
    change: { connection: DefectConnectionRecord },
  ): Promise<Record<string, unknown>> {
    return { detached: await this.detach(tx, change.connection.connection_id) };
  }

  /** Detaches a connection's defects; pushes that had not created their issue yet are told they failed. */
  private async detach(tx: EntityManager, connectionId: string): Promise<number> {
    const rows = await this.defects.detach(tx, connectionId);
    const abandoned = rows.filter(
      (row: DefectRecord) =>
        row.iid === null && row.push_state === 'failed' && row.error_code === 'NOT_CONNECTED',
    );
    await this.outbox.addMany(
      tx,
      abandoned.flatMap((row) => pushFailedEvents(row, true)),
    );
    return rows.length;
  }

  async resyncRequested(
    tx: EntityManager,
    event: ResyncRequestedV1,
  ): Promise<Record<string, unknown> | null> {
    return (await this.state.requestFullSweep(tx, event.connectionId)) ? { scope: 'full' } : null;
  }

  afterCommit(_connectionId: string, event: ConnectionChangeKind): void {
    if (event !== 'disconnected') this.jobs.wake();
  }
}
