import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  ConnectionProjection,
  consumeGitlabEvents,
  foreignProjectError,
  GitlabAccess,
  type GitlabDelivery,
} from '@testkase/consumer-kit';
import type { GitlabActorV1 } from '@testkase/contracts';
import { parseIssueHook } from '@testkase/gitlab';
import { ConsumerRegistry } from '@testkase/platform';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import { DefectMetrics, type DefectEventOutcome } from '../metrics/defect.metrics';
import { GitlabChangeApplier } from './gitlab-change.applier';

export const ISSUE_EVENTS_CONSUMER = 'defect-sync-issues';

/** The actor of a webhook (`user`), when the payload names one in the expected shape. */
function actorOf(body: unknown): GitlabActorV1 | null {
  const user = (body as { user?: unknown } | null)?.user;
  if (typeof user !== 'object' || user === null) return null;
  const { id, username, name } = user as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 255) : null);
  return {
    id: typeof id === 'number' && Number.isSafeInteger(id) ? id : null,
    username: text(username),
    name: text(name),
  };
}

/**
 * GitLab issue events (`gitlab.events.<connectionId>.issue`): those of issues defect-sync created
 * change their defects; every other issue (requirements, copies of a pushed issue) is not ours and
 * is acknowledged at once. A payload that is not a GitLab issue of the connection's project is
 * dead-lettered with its reason.
 */
@Injectable()
export class IssueEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly access: GitlabAccess,
    private readonly applier: GitlabChangeApplier,
    private readonly metrics: DefectMetrics,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
  ) {}

  onModuleInit(): void {
    consumeGitlabEvents(this.consumers, {
      durable: ISSUE_EVENTS_CONSUMER,
      kind: 'issue',
      concurrency: this.config.ISSUE_EVENTS_CONCURRENCY,
      outcomes: this.metrics.events,
      paused: (connectionId) => this.connections.isPaused(this.dataSource.manager, connectionId),
      process: (delivery, message) => this.process(delivery, message.signal),
    });
  }

  /** `signal`: the message's (InboundMessage.signal); GitLab reads stop when it is given up. */
  private async process(
    { connectionId, eventId, body }: GitlabDelivery,
    signal: AbortSignal,
  ): Promise<DefectEventOutcome> {
    const parsed = parseIssueHook(body);
    if (parsed.kind === 'other_work_item') return 'not_ours';
    if (!(await this.applier.isOurs(connectionId, parsed.iid))) return 'not_ours';
    const connection = await this.connections.find(this.dataSource.manager, connectionId);
    if (!connection || connection.state !== 'active') return 'connection_inactive';
    const foreign = foreignProjectError(connection, parsed.projectIds);
    if (foreign) throw foreign;
    const source = { delivery: { eventId, inbox: ISSUE_EVENTS_CONSUMER }, actor: actorOf(body) };
    let snapshot = parsed.snapshot;
    let refetched = false;
    if (!snapshot) {
      snapshot = await this.access.currentIssue(
        connectionId,
        Number(connection.gitlab_project_id),
        parsed.iid,
        signal,
      );
      refetched = true;
      if (!snapshot) return 'stale';
    }
    let outcome = await this.applier.apply(connectionId, snapshot, source);
    if (outcome === 'ask_gitlab' && !refetched) {
      const current = await this.access.currentIssue(
        connectionId,
        Number(connection.gitlab_project_id),
        parsed.iid,
        signal,
      );
      if (!current) return 'stale';
      outcome = await this.applier.apply(connectionId, current, source);
      refetched = true;
    }
    if (outcome === 'ask_gitlab') return 'stale';
    if (refetched) this.metrics.events.inc({ outcome: 'refetched' });
    return outcome;
  }
}
