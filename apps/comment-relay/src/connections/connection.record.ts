import type { ConnectionRecord } from '@testkase/consumer-kit';

/** A row of comment_relay.connections: the kit's projection and this service's reconciliation progress. */
export interface RelayConnectionRecord extends ConnectionRecord {
  /** The newest GitLab updated_at a sweep has seen of the connection's issues. */
  watermark: Date | null;
  last_reconciled_at: Date | null;
  last_full_sweep_at: Date | null;
  full_sweep_requested_at: Date | null;
}
