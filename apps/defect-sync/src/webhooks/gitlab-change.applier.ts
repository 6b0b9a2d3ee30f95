import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { ConnectionProjection, LaneSignals, type ConnectionRecord } from '@testkase/consumer-kit';
import type { GitlabActorV1 } from '@testkase/contracts';
import type { IssueSnapshot } from '@testkase/gitlab';
import { Inbox, Outbox } from '@testkase/platform';

import { gitlabChangeEvents } from '../defects/defect-events';
import type { DefectRecord } from '../defects/defect.record';
import { DefectRepository } from '../defects/defect.repository';
import { mergeGitlabSnapshot } from '../defects/gitlab-merge';
import { DefectMetrics, type DefectEventOutcome } from '../metrics/defect.metrics';

/** Where a snapshot of a pushed issue came from. */
export interface SnapshotSource {
  /** The webhook delivery's id and the inbox it is claimed in; absent for REST snapshots of a sweep. */
  readonly delivery?: { readonly eventId: string; readonly inbox: string };
  readonly actor?: GitlabActorV1 | null;
}

/**
 * Applies what GitLab shows of an issue to its defect, if defect-sync created that issue: forward
 * only, echoes recognised, the later edit winning per field (see mergeGitlabSnapshot). The effect,
 * the inbox entry and the events TestKase hears commit together, behind the connection's gate.
 */
@Injectable()
export class GitlabChangeApplier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly defects: DefectRepository,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly signals: LaneSignals,
    private readonly metrics: DefectMetrics,
  ) {}

  /** Whether the issue is one defect-sync created for this connection (cheap: no transaction). */
  async isOurs(connectionId: string, iid: number): Promise<boolean> {
    return (await this.defects.findByIssue(this.dataSource.manager, connectionId, iid)) !== null;
  }

  /**
   * @returns the outcome, or `ask_gitlab` when only GitLab's REST API can order this change against
   *   the last one seen (both in the same second)
   */
  async apply(
    connectionId: string,
    snapshot: IssueSnapshot,
    source: SnapshotSource,
    tx?: EntityManager,
  ): Promise<DefectEventOutcome | 'ask_gitlab'> {
    let wake = false;
    const run = async (manager: EntityManager): Promise<DefectEventOutcome | 'ask_gitlab'> => {
      await this.connections.enterGate(manager, connectionId);
      const connection = await this.connections.find<ConnectionRecord>(manager, connectionId);
      if (!connection || connection.state !== 'active') return 'connection_inactive';
      const record = await this.defects.findByIssue(manager, connectionId, snapshot.iid, true);
      if (!record || record.push_state !== 'created') return 'not_ours';
      const result = mergeGitlabSnapshot(record, snapshot);
      if (result.kind === 'ask_gitlab') return 'ask_gitlab';
      if (
        source.delivery &&
        !(await this.inbox.claim(manager, source.delivery.inbox, source.delivery.eventId))
      )
        return 'duplicate';
      if (result.kind === 'stale') return 'stale';
      const changed = Object.keys(result.changes).length > 0;
      const dirty = result.restoreBlock
        ? [...new Set([...result.columns.dirty, 'description' as const])]
        : result.columns.dirty;
      const written = await this.defects.update(
        manager,
        record.id,
        {
          ...result.columns,
          dirty,
          next_attempt_at:
            dirty.length > record.dirty.length || result.restoreBlock ? new Date() : record.next_attempt_at,
        },
        { bump: changed },
      );
      if (!written) return 'stale';
      if (changed) {
        await this.outbox.addMany(
          manager,
          gitlabChangeEvents(written, result.changes, {
            actor: source.actor ?? null,
            gitlabUpdatedAt: snapshot.updatedAt,
            projectWebUrl: connection.project_web_url,
          }),
        );
        for (const field of Object.keys(result.changes)) this.metrics.changesToTestkase.inc({ field });
      }
      wake = dirty.length > 0 && written.next_attempt_at !== null;
      return changed ? 'applied' : 'unchanged';
    };
    const outcome = tx ? await run(tx) : await this.dataSource.transaction(run);
    if (wake) this.signals.work(connectionId);
    return outcome;
  }

  /** The defect of an issue, for callers that need more than the outcome. */
  find(connectionId: string, iid: number): Promise<DefectRecord | null> {
    return this.defects.findByIssue(this.dataSource.manager, connectionId, iid);
  }
}
