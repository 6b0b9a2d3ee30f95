import { Injectable } from '@nestjs/common';

import { SweepStateStore, type LaneJobKind } from '@testkase/consumer-kit';

import { SCHEMA } from '../persistence/schema';

const D = `"${SCHEMA}".defects`;

/** defect-sync's jobs of a connection: its lane (pushes, writes, retries) and the two sweeps. */
export type DefectJobKind = LaneJobKind;

/** Advisory-lock namespaces of defect-sync (the consumer kit's gate and job leases). */
export const LOCK_NAMESPACE = { gate: 7311, job: 7312 } as const;

/**
 * The reconciliation columns of defect_sync.connections: a lane is due where a defect's next
 * attempt has come; sweeps run for connections with pushed issues.
 */
@Injectable()
export class SweepStateRepository extends SweepStateStore {
  constructor() {
    super({
      schema: SCHEMA,
      laneDue: `EXISTS (SELECT 1 FROM ${D} d WHERE d.connection_id = c.connection_id AND d.detached_at IS NULL
                          AND d.next_attempt_at <= now())`,
      tracked: `EXISTS (SELECT 1 FROM ${D} d WHERE d.connection_id = c.connection_id AND d.iid IS NOT NULL
                          AND d.detached_at IS NULL)`,
    });
  }
}
