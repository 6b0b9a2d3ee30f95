import type { ConnectionRecord as ProjectedConnection } from '@testkase/consumer-kit';

export { projectContextOf, type ProjectContext } from '@testkase/consumer-kit';

export type BackfillState = 'pending' | 'running' | 'completed' | 'failed';

/**
 * A row of requirement_sync.connections: the kit's projection of the connection, and this
 * service's sync progress in the same row.
 */
export interface ConnectionRecord extends ProjectedConnection {
  backfill_state: BackfillState;
  backfill_cursor: string | null;
  backfill_imported: number;
  backfill_expected: number | null;
  backfill_started_at: Date | null;
  backfill_finished_at: Date | null;
  watermark: Date | null;
  last_reconciled_at: Date | null;
  last_full_sweep_at: Date | null;
  full_sweep_requested_at: Date | null;
  /** When the last deletion check (or full sweep) started; null: none yet. */
  last_deletion_check_at: Date | null;
  /** The gateway's latest reported webhook delivery; null: none yet (a manual connection is then polled). */
  last_delivery_at: Date | null;
}
