import { Injectable } from '@nestjs/common';

import { SweepStateStore, type LaneJobKind } from '@testkase/consumer-kit';

import { SCHEMA } from '../persistence/schema';

const s = `"${SCHEMA}"`;

/** comment-relay's jobs of a connection: its lane (comment writes and retries) and the two sweeps. */
export type RelayJobKind = LaneJobKind;

/** Advisory-lock namespaces of comment-relay (the consumer kit's gate and job leases). */
export const LOCK_NAMESPACE = { gate: 7321, job: 7322, target: 7323 } as const;

/**
 * The reconciliation columns of comment_relay.connections: a lane is due where a link comment or a
 * defect comment has come due; sweeps run for connections with pushed defects or link comments.
 */
@Injectable()
export class SweepStateRepository extends SweepStateStore {
  constructor() {
    super({
      schema: SCHEMA,
      laneDue: `(EXISTS (SELECT 1 FROM ${s}.link_comments l WHERE l.connection_id = c.connection_id
                          AND l.next_attempt_at <= now())
                 OR EXISTS (SELECT 1 FROM ${s}.comments m WHERE m.connection_id = c.connection_id
                          AND m.next_attempt_at <= now()))`,
      tracked: `(EXISTS (SELECT 1 FROM ${s}.defects d WHERE d.connection_id = c.connection_id)
                 OR EXISTS (SELECT 1 FROM ${s}.link_comments l WHERE l.connection_id = c.connection_id
                          AND l.note_id IS NOT NULL))`,
    });
  }
}
