import type { EntityManager } from 'typeorm';

import type { GitlabClient } from '@testkase/gitlab';
import type { Logger } from '@testkase/platform';

import {
  projectContextOf,
  type ConnectionRecord,
  type ProjectContext,
} from '../connections/connection.record';
import type { GitlabAccess } from '../gitlab/gitlab-access.service';
import type { JobLease } from '../jobs/job-lease';
import { TokenRefused } from './gitlab-failure';
import type { LaneSignals } from './lane-signals';

/** How often a lane looks at the database for work another replica queued (its own is signalled). */
const POLL_MS = 100;

/** Something a lane works on: one row, never worked on twice at once. */
export interface LaneItem {
  readonly id: string;
}

export interface LaneSettings<T extends LaneItem> {
  readonly lease: JobLease;
  readonly signals: LaneSignals;
  readonly logger: Logger;
  /** Items worked on at once. */
  readonly concurrency: number;
  /** How long an idle lane keeps its connection's lease, waiting for more work. */
  readonly lingerMs: number;
  /** Up to `limit` items due now, none of `busy` (in the lease's transaction). */
  readonly due: (tx: EntityManager, limit: number, busy: readonly string[]) => Promise<T[]>;
  /** Works on one item. A TokenRefused it throws ends the whole lane; other errors only this attempt. */
  readonly work: (item: T) => Promise<void>;
}

/**
 * A connection's lane: the one place an app writes to GitLab for a connection, run by one replica
 * at a time under the connection's job lease. It takes due items, works on up to `concurrency` at
 * once, is woken by LaneSignals when new work is queued here (and polls for work queued elsewhere),
 * and stays `lingerMs` for more before it gives the lease back. Because one replica writes a
 * connection's items, client-side creation limits hold across replicas.
 *
 * @throws GitLab's error behind a TokenRefused, after the items in hand have settled (the scheduler
 *   reports it, and the connection's status follows).
 */
export async function runLane<T extends LaneItem>(
  settings: LaneSettings<T>,
  signal: AbortSignal,
): Promise<void> {
  const { lease, signals, logger } = settings;
  const connectionId = lease.connectionId;
  const inFlight = new Map<string, Promise<void>>();
  let stopped: { error: unknown } | null = null;
  let wake: () => void = () => undefined;
  const woken = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  signals.laneRunning(connectionId, () => wake());
  let idleSince = Date.now();
  try {
    while (!signal.aborted && !stopped) {
      const free = settings.concurrency - inFlight.size;
      const due =
        free > 0 ? await lease.transaction((tx) => settings.due(tx, free, [...inFlight.keys()])) : [];
      for (const item of due) {
        const work = settings
          .work(item)
          .catch((error: unknown) => {
            if (error instanceof TokenRefused) stopped = { error: error.error };
            else logger.error({ err: error, connectionId, itemId: item.id }, 'lane work failed');
          })
          .finally(() => {
            inFlight.delete(item.id);
            signals.settled(item.id);
            wake();
          });
        inFlight.set(item.id, work);
      }
      if (inFlight.size > 0 || due.length > 0) idleSince = Date.now();
      else if (Date.now() - idleSince >= settings.lingerMs) break;
      await woken();
    }
    await Promise.allSettled(inFlight.values());
  } finally {
    signals.laneRunning(connectionId, undefined);
  }
  if (stopped) throw (stopped as { error: unknown }).error;
}

/** What every piece of a connection's lane works with. */
export interface LaneContext {
  /** The connection's job lease: its writes that must not outlive the lease go through it. */
  readonly lease: JobLease;
  readonly project: ProjectContext;
  readonly gitlab: GitlabClient;
  /** The token's owner: the author of everything the lane writes to GitLab. */
  readonly tokenUserId: number;
}

/** The lane's context for a connection: its GitLab client and token owner (from the credentials). */
export async function laneContextOf(
  access: GitlabAccess,
  lease: JobLease,
  connection: ConnectionRecord,
): Promise<LaneContext> {
  const { client, credentials } = await access.accessFor(connection.connection_id);
  return {
    lease,
    project: projectContextOf(connection),
    gitlab: client,
    tokenUserId: credentials.tokenUserId,
  };
}
