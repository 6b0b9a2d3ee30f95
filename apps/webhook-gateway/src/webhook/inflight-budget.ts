/** Why a delivery's bytes do not fit: its connection's share, or the gateway's as a whole. */
export type BudgetRefusal = 'connection' | 'overall';

/** Bytes held for one request until {@link InflightBudget.release}. */
export interface BudgetReservation {
  readonly connectionId: string;
  readonly bytes: number;
  released: boolean;
}

/**
 * Bounds the request bodies the gateway holds at once (received, publishing or spooling), per
 * connection and overall, so that one caller with a connection's secret cannot fill the heap with
 * 25 MiB bodies. A request reserves its announced size before its body is read and releases it once
 * it is answered. Only connections with bytes in flight have an entry.
 */
export class InflightBudget {
  private readonly perConnection = new Map<string, number>();
  private held = 0;

  constructor(
    private readonly connectionLimit: number,
    private readonly overallLimit: number,
  ) {}

  /** Bytes held for all connections now. */
  get total(): number {
    return this.held;
  }

  reserve(connectionId: string, bytes: number): BudgetReservation | BudgetRefusal {
    const current = this.perConnection.get(connectionId) ?? 0;
    if (current + bytes > this.connectionLimit) return 'connection';
    if (this.held + bytes > this.overallLimit) return 'overall';
    this.perConnection.set(connectionId, current + bytes);
    this.held += bytes;
    return { connectionId, bytes, released: false };
  }

  /** Idempotent. */
  release(reservation: BudgetReservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.held -= reservation.bytes;
    const left = (this.perConnection.get(reservation.connectionId) ?? 0) - reservation.bytes;
    if (left > 0) this.perConnection.set(reservation.connectionId, left);
    else this.perConnection.delete(reservation.connectionId);
  }
}
