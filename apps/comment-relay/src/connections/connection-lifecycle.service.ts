import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import {
  ConnectionEventsConsumer,
  projectContextOf,
  type ConnectedChange,
  type ConnectionChangeKind,
  type ConnectionLifecycleHooks,
  type ConnectionRecord,
} from '@testkase/consumer-kit';
import type { ResyncRequestedV1 } from '@testkase/contracts';

import { RelayJobs } from '../lane/relay-jobs.service';
import { SCHEMA } from '../persistence/schema';
import { TargetRepository } from '../targets/target.repository';
import { SweepStateRepository } from './sweep-state.repository';

const s = `"${SCHEMA}"`;

/**
 * What a connection's lifecycle does to comments (run by the consumer kit in one transaction with
 * its inbox entry, behind the connection's gate): a disconnect stops every write (the lane only runs
 * for active connections; what was queued stays queued, nothing is lost); a connect to the same
 * GitLab project takes the requirements, defects, links and comments back and makes what was
 * queued due again, then reconciles with a full sweep.
 */
@Injectable()
export class ConnectionLifecycleService implements ConnectionLifecycleHooks<ConnectionRecord>, OnModuleInit {
  constructor(
    private readonly connectionEvents: ConnectionEventsConsumer,
    private readonly targets: TargetRepository,
    private readonly state: SweepStateRepository,
    private readonly jobs: RelayJobs,
  ) {}

  onModuleInit(): void {
    this.connectionEvents.register(this);
  }

  async connected(
    tx: EntityManager,
    change: ConnectedChange<ConnectionRecord>,
  ): Promise<Record<string, unknown>> {
    const { connection, fresh } = change;
    const connectionId = connection.connection_id;
    if (fresh) await this.state.reset(tx, connectionId);
    const attached = await this.targets.attach(tx, projectContextOf(connection));
    const [, links]: [unknown[], number] = await tx.query(
      `UPDATE ${s}.link_comments l SET connection_id = r.connection_id,
          next_attempt_at = CASE WHEN l.revision > l.written_revision THEN now() ELSE l.next_attempt_at END
         FROM ${s}.requirements r
        WHERE r.requirement_id = l.requirement_id AND r.project_id = l.project_id AND r.connection_id = $1::uuid
          AND l.connection_id IS DISTINCT FROM $1::uuid`,
      [connectionId],
    );
    const [, comments]: [unknown[], number] = await tx.query(
      `UPDATE ${s}.comments m SET connection_id = d.connection_id,
          next_attempt_at = CASE WHEN m.revision > m.written_revision THEN now() ELSE m.next_attempt_at END
         FROM ${s}.defects d
        WHERE d.project_id = m.project_id AND d.defect_id = m.defect_id AND d.connection_id = $1::uuid
          AND m.connection_id IS DISTINCT FROM $1::uuid`,
      [connectionId],
    );
    // Queued writes whose token was refused wait no longer.
    for (const table of ['link_comments', 'comments']) {
      await tx.query(
        `UPDATE ${s}.${table} SET next_attempt_at = now() WHERE connection_id = $1::uuid
          AND revision > written_revision AND error_code IN ('AUTH_FAILED', 'TOKEN_EXPIRED')`,
        [connectionId],
      );
    }
    if (attached > 0) await this.state.requestFullSweep(tx, connectionId);
    return { projectId: connection.project_id, fresh, attached, links, comments };
  }

  async disconnected(): Promise<Record<string, unknown>> {
    return {};
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
