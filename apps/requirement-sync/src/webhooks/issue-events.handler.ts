import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  ConnectionProjection,
  consumeGitlabEvents,
  GitlabAccess,
  type GitlabDelivery,
} from '@testkase/consumer-kit';
import { parseIssueHook, type IssueSnapshot } from '@testkase/gitlab';
import { ConsumerRegistry, LOGGER, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { SyncMetrics, type IssueEventOutcome } from '../metrics/sync.metrics';
import type { IssueEventItem } from './issue-event.applier';
import { IssueEventBatcher } from './issue-event.batcher';

export const ISSUE_EVENTS_CONSUMERS = {
  issue: 'requirement-sync-issues',
  work_item: 'requirement-sync-work-items',
} as const;

/**
 * Real time: GitLab issue events (and work item events of type Issue) from the gateway. Each
 * delivery is applied at most once (inbox keyed by its message id, the webhook's Idempotency-Key)
 * and only forward (GitLab's updated_at); a payload that is not a GitLab issue of the
 * connection's project is dead-lettered with its reason and changes nothing.
 */
@Injectable()
export class IssueEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly batcher: IssueEventBatcher,
    private readonly access: GitlabAccess,
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
        process: (delivery) => this.process(delivery),
      });
    }
  }

  private async process({ connectionId, eventId, body }: GitlabDelivery): Promise<IssueEventOutcome> {
    const parsed = parseIssueHook(body);
    if (parsed.kind === 'other_work_item') {
      this.metrics.workItemsSkipped.inc({ type: parsed.type });
      return 'work_item_skipped';
    }
    const item: IssueEventItem = {
      eventId,
      iid: parsed.iid,
      projectIds: parsed.projectIds,
      snapshot: parsed.snapshot,
      refetched: false,
    };
    let result = await this.batcher.submit(connectionId, item);
    if ('askGitlab' in result) {
      this.logger.debug(
        { connectionId, iid: parsed.iid, reason: result.askGitlab, missing: parsed.missing },
        'asking GitLab for the issue',
      );
      const snapshot = await this.fetchIssue(connectionId, parsed.iid);
      result = await this.batcher.submit(connectionId, { ...item, snapshot, refetched: true });
    }
    if ('error' in result) throw result.error;
    return 'outcome' in result ? result.outcome : 'stale';
  }

  /** The issue as GitLab has it now, or null when it is gone (or no longer an issue). */
  private async fetchIssue(connectionId: string, iid: number): Promise<IssueSnapshot | null> {
    const connection = await this.connections.find(this.dataSource.manager, connectionId);
    if (!connection) return null;
    return this.access.currentIssue(connectionId, Number(connection.gitlab_project_id), iid);
  }
}
