import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, consumeGitlabEvents, type GitlabDelivery } from '@testkase/consumer-kit';
import { KNOWN_WORK_ITEM_TYPES, otherWorkItemRef, parseIssueHook } from '@testkase/gitlab';
import { ConsumerRegistry, HoldMessage, LOGGER, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import type { ConnectionRecord } from '../connections/connection.record';
import { SyncMetrics, type IssueEventOutcome } from '../metrics/sync.metrics';
import type { MovedToLink } from '../requirements/moved-issue';
import { IssueFateReader } from '../sync/issue-fate.reader';
import type { IssueEventItem } from './issue-event.applier';
import { IssueEventBatcher } from './issue-event.batcher';
import { IssueRefetches } from './issue-refetches';

export const ISSUE_EVENTS_CONSUMERS = {
  issue: 'requirement-sync-issues',
  work_item: 'requirement-sync-work-items',
} as const;

/**
 * Real time: GitLab issue events (and work item events) from the gateway. Each delivery is applied
 * at most once (inbox keyed by its message id, the webhook's Idempotency-Key) and only forward
 * (GitLab's updated_at); a payload that is not a GitLab issue of the connection's project is
 * dead-lettered with its reason and changes nothing. An issue turned into another work item type
 * is deprecated (`retyped`); a moved one (`moved_to_id`) is deprecated (`moved`) with the link to
 * its new issue, read from GitLab (docs/GITLAB.md, "Moved, deleted and retyped issues").
 */
@Injectable()
export class IssueEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly batcher: IssueEventBatcher,
    private readonly refetches: IssueRefetches,
    private readonly fate: IssueFateReader,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    for (const kind of ['issue', 'work_item'] as const) {
      consumeGitlabEvents(this.consumers, {
        durable: ISSUE_EVENTS_CONSUMERS[kind],
        kind,
        concurrency: this.config.ISSUE_EVENTS_CONCURRENCY,
        outcomes: this.metrics.events,
        // The pause is read in the transaction that applies the event (its gate reads the
        // connection): one round trip fewer per event. An event that reads GitLab before it is
        // applied (a moved issue) asks on its own first.
        paused: async () => false,
        process: (delivery, message) => this.process(delivery, message.signal),
      });
    }
  }

  /** `signal`: the message's (InboundMessage.signal); GitLab reads stop when it is given up. */
  private async process(
    { connectionId, eventId, body }: GitlabDelivery,
    signal: AbortSignal,
  ): Promise<IssueEventOutcome> {
    const parsed = parseIssueHook(body);
    let item: IssueEventItem;
    if (parsed.kind === 'other_work_item') {
      // An issue turned into a Task, an Incident, … is deprecated at once; any other work item is skipped.
      const ref = otherWorkItemRef(body);
      if (!ref) {
        this.metrics.workItemsSkipped.inc({ type: parsed.type });
        return 'work_item_skipped';
      }
      item = {
        eventId,
        iid: ref.iid,
        projectIds: ref.projectIds,
        snapshot: null,
        refetched: false,
        retyped: { type: ref.type, updatedAt: ref.updatedAt, exact: ref.updatedAtExact },
      };
    } else {
      item = {
        eventId,
        iid: parsed.iid,
        projectIds: parsed.projectIds,
        snapshot: parsed.snapshot,
        refetched: false,
        movedTo:
          parsed.snapshot?.movedToId === undefined
            ? undefined
            : await this.movedTo(connectionId, parsed.iid, signal),
      };
    }
    let result = await this.batcher.submit(connectionId, item);
    if ('askGitlab' in result) {
      this.logger.debug(
        {
          connectionId,
          iid: item.iid,
          reason: result.askGitlab,
          missing: parsed.kind === 'issue' ? parsed.missing : [],
        },
        'asking GitLab for the issue',
      );
      // One read of the issue at a time, shared by the events that wait for it (IssueRefetches).
      result = await this.refetches.settle(
        connectionId,
        item,
        result.askGitlab,
        (asking, readSignal) => this.refetched(connectionId, asking, readSignal),
        signal,
      );
    }
    if ('error' in result) {
      if (result.error instanceof HoldMessage) this.metrics.events.inc({ outcome: 'held' });
      throw result.error;
    }
    const outcome = 'outcome' in result ? result.outcome : 'stale';
    if (outcome === 'work_item_skipped')
      this.metrics.workItemsSkipped.inc({ type: item.retyped?.type ?? 'Other' });
    return outcome;
  }

  /** The item as GitLab has the issue now: an issue, another work item type, or nothing. */
  private async refetched(
    connectionId: string,
    item: IssueEventItem,
    signal: AbortSignal,
  ): Promise<IssueEventItem> {
    const nothing: IssueEventItem = {
      ...item,
      snapshot: null,
      retyped: undefined,
      movedTo: undefined,
      refetched: true,
    };
    const connection = await this.connections.find<ConnectionRecord>(this.dataSource.manager, connectionId);
    if (!connection) return nothing;
    const fate = await this.fate.read(connection, item.iid, signal);
    switch (fate.kind) {
      case 'issue':
        return {
          ...nothing,
          snapshot: fate.snapshot,
          movedTo:
            fate.snapshot.movedToId === undefined
              ? undefined
              : await this.fate.movedTo(connection, item.iid, undefined, signal),
        };
      case 'retyped':
        return {
          ...nothing,
          retyped: {
            type: workItemTypeName(fate.type),
            updatedAt: fate.updatedAt ?? new Date(),
            exact: true,
          },
        };
      case 'gone':
        return nothing;
    }
  }

  /** Where a moved issue went (its `moved to` note), or null. */
  private async movedTo(connectionId: string, iid: number, signal: AbortSignal): Promise<MovedToLink | null> {
    if (await this.connections.isPaused(this.dataSource.manager, connectionId)) {
      this.metrics.events.inc({ outcome: 'held' });
      throw new HoldMessage(`connection ${connectionId} is paused`);
    }
    const connection = await this.connections.find<ConnectionRecord>(this.dataSource.manager, connectionId);
    return connection ? this.fate.movedTo(connection, iid, undefined, signal) : null;
  }
}

/** REST's `issue_type` as webhooks name the type (`incident` → `Incident`), for the metric labels. */
function workItemTypeName(issueType: string): string {
  const named = issueType
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  return (KNOWN_WORK_ITEM_TYPES as readonly string[]).includes(named) ? named : 'Other';
}
