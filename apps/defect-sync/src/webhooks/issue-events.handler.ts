import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, GitlabAccess, gitlabDeliveryOf, isAuthFailure } from '@testkase/consumer-kit';
import { gitlabEventsOfKind, STREAMS, type GitlabActorV1 } from '@testkase/contracts';
import { parseIssueHook, snapshotFromRestIssue, type IssueSnapshot } from '@testkase/gitlab';
import { ConsumerRegistry, type InboundMessage } from '@testkase/platform';
import { isAppError, ValidationError } from '@testkase/util';

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
    this.consumers.register({
      stream: STREAMS.GITLAB_EVENTS.name,
      durable: ISSUE_EVENTS_CONSUMER,
      filterSubject: gitlabEventsOfKind('issue'),
      handler: (message) => this.handle(message),
      concurrency: this.config.ISSUE_EVENTS_CONCURRENCY,
      maxDeliver: 10,
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    let outcome: DefectEventOutcome;
    try {
      outcome = await this.process(message);
    } catch (error) {
      if (isAppError(error) && !error.transient) this.metrics.events.inc({ outcome: 'rejected' });
      throw error;
    }
    this.metrics.events.inc({ outcome });
  }

  private async process(message: InboundMessage): Promise<DefectEventOutcome> {
    const { connectionId, eventId, body } = gitlabDeliveryOf(message);
    const parsed = parseIssueHook(body);
    if (parsed.kind === 'other_work_item') return 'not_ours';
    if (!(await this.applier.isOurs(connectionId, parsed.iid))) return 'not_ours';
    const connection = await this.connections.find(this.dataSource.manager, connectionId);
    if (!connection || connection.state !== 'active') return 'connection_inactive';
    const foreign = parsed.projectIds.find((id) => id !== Number(connection.gitlab_project_id));
    if (foreign !== undefined) {
      throw new ValidationError(
        `event of GitLab project ${foreign}, but connection ${connectionId} is for project ${connection.gitlab_project_id}`,
      );
    }
    const source = { delivery: { eventId, inbox: ISSUE_EVENTS_CONSUMER }, actor: actorOf(body) };
    let snapshot = parsed.snapshot;
    let refetched = false;
    if (!snapshot) {
      snapshot = await this.fetchIssue(connectionId, Number(connection.gitlab_project_id), parsed.iid);
      refetched = true;
      if (!snapshot) return 'stale';
    }
    let outcome = await this.applier.apply(connectionId, snapshot, source);
    if (outcome === 'ask_gitlab' && !refetched) {
      const current = await this.fetchIssue(connectionId, Number(connection.gitlab_project_id), parsed.iid);
      if (!current) return 'stale';
      outcome = await this.applier.apply(connectionId, current, source);
      refetched = true;
    }
    if (outcome === 'ask_gitlab') return 'stale';
    if (refetched) this.metrics.events.inc({ outcome: 'refetched' });
    return outcome;
  }

  /** The issue as GitLab has it now, or null when it is gone or cannot be read now (a sweep repairs it). */
  private async fetchIssue(
    connectionId: string,
    gitlabProjectId: number,
    iid: number,
  ): Promise<IssueSnapshot | null> {
    try {
      const gitlab = await this.access.clientFor(connectionId);
      return snapshotFromRestIssue(await gitlab.issues.get(gitlabProjectId, iid));
    } catch (error) {
      if (isAppError(error) && (error.code === 'GITLAB_NOT_FOUND' || error.code === 'NOT_CONNECTED'))
        return null;
      if (isAuthFailure(error)) {
        await this.access.reportAuthFailure(connectionId, error);
        return null;
      }
      throw error;
    }
  }
}
