import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { inPooledTransaction, type Sql } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { SyncMetrics } from '../metrics/sync.metrics';
import { SCHEMA } from '../persistence/schema';
import type { AskReason, IssueEventItem, IssueEventResult } from './issue-event.applier';
import { IssueEventBatcher } from './issue-event.batcher';

/** Reads the issue from GitLab: the item as GitLab has it now (`refetched`), for one event. */
export type IssueReader = (item: IssueEventItem, signal: AbortSignal) => Promise<IssueEventItem>;

interface Waiter {
  readonly item: IssueEventItem;
  readonly reason: AskReason;
  readonly signal: AbortSignal;
  readonly read: IssueReader;
  readonly resolve: (result: IssueEventResult) => void;
}

/** The events of one issue that wait for one answer from GitLab. */
interface Flight {
  readonly waiters: Waiter[];
}

/** One issue's refetches on this replica: the one being made, and the one gathering events after it. */
interface Lane {
  running: Flight | null;
  open: Flight | null;
  /** A read of this issue was made here before: the stored state may already settle the next events. */
  readBefore: boolean;
}

/** When the last read of each issue started (the database's clock), for the other replicas. */
const REQUIREMENT_REFETCHES = `${SCHEMA}.issue_refetches`;

/** Recent enough for the stored state to be worth a look before GitLab is asked (seconds). */
const RECENT_READ_SECONDS = 30;

/** The connection id goes into the opening SQL (one round trip): it must be a UUID. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * At most one read of an issue from GitLab in flight, across replicas (docs/ARCHITECTURE.md,
 * "Real time: one read of an issue at a time"). Events that need GitLab's answer (two changes of one
 * second, a time from the future, a payload without fields) wait in their issue's lane: the events
 * that arrive while a read is made gather behind it and share the next one, whose answer is newer
 * than each of them, since it was asked for after they arrived. Across replicas the read holds a
 * transaction-level advisory lock on the issue and notes when it started (the database's clock) in
 * `issue_refetches`; a replica that asked for the lock before a read started and got it after that
 * read was applied has its events settled by it, with no read of its own. Before reading, a lane
 * that follows a recent read tries its events against the stored state again: one that is older
 * than what is stored now, or equal to it, needs nothing more. The answer is applied (forward only,
 * inbox in the same transaction, as every event) before the lock is released, so whoever gets the
 * lock next sees it.
 */
@Injectable()
export class IssueRefetches {
  private readonly lanes = new Map<string, Lane>();
  /** Reads of different issues under way here: each holds a pooled connection for its lock. */
  private readonly slots: number;
  private busy = 0;
  private readonly waitingForSlot: Array<() => void> = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly batcher: IssueEventBatcher,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) config: RequirementSyncConfig,
  ) {
    // Half the pool at most, less one: the answers' writes and the rate limiter need connections too.
    this.slots = Math.max(1, Math.floor(config.DB_POOL_SIZE / 2) - 1);
  }

  /** The event settled by a read of its issue made after it arrived (or by the stored state). */
  settle(
    connectionId: string,
    item: IssueEventItem,
    reason: AskReason,
    read: IssueReader,
    signal: AbortSignal,
  ): Promise<IssueEventResult> {
    if (!UUID.test(connectionId)) return Promise.resolve({ error: new Error('not a connection id') });
    const key = `${connectionId}:${item.iid}`;
    return new Promise((resolve) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { running: null, open: null, readBefore: false };
        this.lanes.set(key, lane);
      }
      lane.open ??= { waiters: [] };
      lane.open.waiters.push({ item, reason, signal, read, resolve });
      this.advance(key, lane, connectionId, item.iid);
    });
  }

  private advance(key: string, lane: Lane, connectionId: string, iid: number): void {
    if (lane.running) return;
    const flight = lane.open;
    if (!flight) {
      this.lanes.delete(key);
      return;
    }
    lane.running = flight;
    lane.open = null;
    void this.fly(connectionId, iid, flight, lane.readBefore)
      .catch((error: unknown) => {
        for (const waiter of flight.waiters) waiter.resolve({ error });
      })
      .finally(() => {
        lane.running = null;
        lane.readBefore = true;
        this.advance(key, lane, connectionId, iid);
      });
  }

  private async fly(connectionId: string, iid: number, flight: Flight, readBefore: boolean): Promise<void> {
    // After a read made here the stored state often settles the events gathered meanwhile: tried
    // first, before a slot and the lock are taken, so that those never wait for either.
    const waiting = readBefore ? await this.tryStored(connectionId, flight.waiters) : flight.waiters;
    if (waiting.length === 0) return;
    await this.slot();
    try {
      // asked_at: after every waiter arrived (the flight gathers no more); then the issue's lock.
      const opening = `SELECT clock_timestamp() AS asked_at;
        SELECT pg_advisory_xact_lock(hashtext('requirement-sync:refetch:${connectionId}'), ${iid});
        SELECT read_at, clock_timestamp() - read_at < interval '${RECENT_READ_SECONDS} seconds' AS recent
          FROM ${REQUIREMENT_REFETCHES} WHERE connection_id = '${connectionId}' AND iid = ${iid}`;
      await inPooledTransaction(this.dataSource, opening, async (sql, opened) => {
        const askedAt = (opened[0]?.rows[0] as { asked_at: Date } | undefined)?.asked_at;
        const last = opened[2]?.rows[0] as { read_at: Date; recent: boolean } | undefined;
        if (askedAt && last && last.read_at.getTime() >= askedAt.getTime()) {
          // Another replica's read started after all of these arrived, and it is applied.
          await this.apply(connectionId, waiting, 'replica', (waiter) => settled(waiter.item));
          return;
        }
        // Another replica read this issue lately: what it stored may settle these.
        const waiters = !readBefore && last?.recent ? await this.tryStored(connectionId, waiting) : waiting;
        const [leader] = waiters;
        if (!leader) return;
        await this.markRead(sql, connectionId, iid);
        this.metrics.refetches.inc({ reason: leader.reason });
        const answer = await leader.read(leader.item, leader.signal);
        const failed = await this.apply(
          connectionId,
          waiters,
          'flight',
          (waiter) => ({
            ...answer,
            eventId: waiter.item.eventId,
          }),
          leader,
        );
        // Not applied: no other replica may take this read for done (the mark is rolled back).
        if (failed) throw failed;
      });
    } finally {
      this.release();
    }
  }

  /** The waiters the stored state does not settle (it changed since they asked: a read was made). */
  private async tryStored(connectionId: string, waiters: readonly Waiter[]): Promise<Waiter[]> {
    const results = await Promise.all(
      waiters.map((waiter) => this.batcher.submit(connectionId, waiter.item)),
    );
    const remaining: Waiter[] = [];
    waiters.forEach((waiter, index) => {
      const result = results[index] ?? { error: new Error('no result') };
      if ('askGitlab' in result) remaining.push(waiter);
      else {
        this.metrics.refetchesShared.inc({ via: 'stored' });
        waiter.resolve(result);
      }
    });
    return remaining;
  }

  private async markRead(sql: Sql, connectionId: string, iid: number): Promise<void> {
    await sql.rows(
      `INSERT INTO ${REQUIREMENT_REFETCHES} (connection_id, iid, read_at) VALUES ($1, $2, clock_timestamp())
       ON CONFLICT (connection_id, iid) DO UPDATE SET read_at = excluded.read_at`,
      [connectionId, iid],
      'requirement_sync_mark_refetch',
    );
  }

  /** Applies each waiter's item; returns the first error, if any. */
  private async apply(
    connectionId: string,
    waiters: readonly Waiter[],
    via: 'replica' | 'flight',
    itemOf: (waiter: Waiter) => IssueEventItem,
    leader?: Waiter,
  ): Promise<unknown> {
    const results = await Promise.all(
      waiters.map((waiter) => this.batcher.submit(connectionId, itemOf(waiter))),
    );
    let failed: unknown;
    waiters.forEach((waiter, index) => {
      const result = results[index] ?? { error: new Error('no result') };
      if ('error' in result) failed ??= result.error;
      if (waiter !== leader) this.metrics.refetchesShared.inc({ via });
      waiter.resolve(result);
    });
    return failed;
  }

  private async slot(): Promise<void> {
    while (this.busy >= this.slots) await new Promise<void>((wake) => this.waitingForSlot.push(wake));
    this.busy += 1;
  }

  private release(): void {
    this.busy -= 1;
    this.waitingForSlot.shift()?.();
  }
}

/**
 * An event a read made after it arrived has settled: nothing of its own to write, its delivery is
 * claimed (inbox) as `stale` — the requirement is at least as new as the event.
 */
const settled = (item: IssueEventItem): IssueEventItem => ({
  eventId: item.eventId,
  iid: item.iid,
  projectIds: item.projectIds,
  snapshot: null,
  refetched: true,
});
