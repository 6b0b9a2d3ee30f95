import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { gitlabEventsOfKind, STREAMS } from '@testkase/contracts';
import {
  ConsumerRegistry,
  Inbox,
  LOGGER,
  Outbox,
  type InboundMessage,
  type Logger,
} from '@testkase/platform';
import { isAppError, TransientError, ValidationError } from '@testkase/util';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { projectContextOf, type ConnectionRecord } from '../connections/connection.record';
import { ConnectionRepository } from '../connections/connection.repository';
import { GitlabAccess, isAuthFailure } from '../connections/gitlab-access.service';
import { SyncMetrics, type IssueEventOutcome } from '../metrics/sync.metrics';
import type { IssueSnapshot } from '../requirements/issue-snapshot';
import { requirementEvents } from '../requirements/requirement-events';
import { toUpsertRow, type RequirementUpsertRow } from '../requirements/requirement-mapping';
import type { RequirementRecord } from '../requirements/requirement.record';
import { RequirementRepository } from '../requirements/requirement.repository';
import { snapshotFromRestIssue } from '../requirements/rest-issue';
import { parseIssueHook } from './issue-hook.parser';

export const ISSUE_EVENTS_CONSUMERS = {
  issue: 'requirement-sync-issues',
  work_item: 'requirement-sync-work-items',
} as const;
/** The inbox name both consumers share: a delivery is applied once whichever subject carried it. */
const INBOX_CONSUMER = 'requirement-sync-issue-events';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The payload cannot be applied as it is: ask GitLab for the issue (fields missing, or same-second order). */
class AskGitlab extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Input for one apply attempt: the payload's snapshot, or the issue fetched over REST. */
type Attempt = { snapshot: IssueSnapshot; refetched: boolean } | { snapshot: null; refetched: boolean };

const sameContent = (stored: RequirementRecord, row: RequirementUpsertRow): boolean =>
  stored.title === row.title &&
  stored.description_markdown === row.description_markdown &&
  stored.status === row.status &&
  stored.confidential === row.confidential &&
  stored.labels.length === row.labels.length &&
  stored.labels.every((label, index) => label === row.labels[index]);

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
    private readonly connections: ConnectionRepository,
    private readonly requirements: RequirementRepository,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly access: GitlabAccess,
    private readonly metrics: SyncMetrics,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    for (const kind of ['issue', 'work_item'] as const) {
      this.consumers.register({
        stream: STREAMS.GITLAB_EVENTS.name,
        durable: ISSUE_EVENTS_CONSUMERS[kind],
        filterSubject: gitlabEventsOfKind(kind),
        handler: (message) => this.handle(message),
        concurrency: this.config.ISSUE_EVENTS_CONCURRENCY,
        maxDeliver: 10,
      });
    }
  }

  async handle(message: InboundMessage): Promise<void> {
    let outcome: IssueEventOutcome;
    try {
      outcome = await this.process(message);
    } catch (error) {
      if (isAppError(error) && !error.transient) this.metrics.events.inc({ outcome: 'rejected' });
      throw error;
    }
    this.metrics.events.inc({ outcome });
  }

  private async process(message: InboundMessage): Promise<IssueEventOutcome> {
    const connectionId = message.subject.split('.')[2] ?? '';
    if (!UUID.test(connectionId)) throw new ValidationError(`subject ${message.subject} names no connection`);
    const parsed = parseIssueHook(message.json());
    if (parsed.kind === 'other_work_item') {
      this.metrics.workItemsSkipped.inc({ type: parsed.type });
      return 'work_item_skipped';
    }
    const eventId = message.msgId ?? `${message.subject}#${message.streamSequence}`;
    const input = { connectionId, eventId, iid: parsed.iid, projectIds: parsed.projectIds };
    try {
      return await this.apply(input, { snapshot: parsed.snapshot, refetched: false });
    } catch (error) {
      if (!(error instanceof AskGitlab)) throw error;
      this.logger.debug(
        { connectionId, iid: parsed.iid, reason: error.reason, missing: parsed.missing },
        'asking GitLab for the issue',
      );
      return this.apply(input, {
        snapshot: await this.fetchIssue(connectionId, parsed.iid),
        refetched: true,
      });
    }
  }

  /**
   * One transaction: the connection's gate (no disconnect in between), the project check, the
   * inbox claim, the conditional upsert and its events. Throws {@link AskGitlab} (rolling back)
   * when the payload cannot decide alone.
   */
  private async apply(
    input: { connectionId: string; eventId: string; iid: number; projectIds: readonly number[] },
    attempt: Attempt,
  ): Promise<IssueEventOutcome> {
    return this.dataSource.transaction(async (tx) => {
      await this.connections.enterGate(tx, input.connectionId);
      const connection = await this.connections.find(tx, input.connectionId);
      if (!connection) {
        // The connected event may still be on its way: try again later.
        throw new TransientError('unknown connection', { details: { connectionId: input.connectionId } });
      }
      this.assertSameProject(connection, input.projectIds);
      if (!(await this.inbox.claim(tx, INBOX_CONSUMER, input.eventId))) return 'duplicate';
      if (connection.state !== 'active') return 'connection_inactive';
      if (!attempt.snapshot) {
        if (attempt.refetched) return 'stale'; // GitLab no longer has it as an issue: the full sweep decides
        throw new AskGitlab('the payload lacks fields');
      }
      const context = projectContextOf(connection);
      const row = toUpsertRow(attempt.snapshot, context);
      const outcomes = await this.requirements.upsert(tx, context, [row]);
      const written = outcomes[0];
      if (!written) return this.notWritten(tx, connection, row, attempt);
      const { messages } = requirementEvents(outcomes);
      await this.outbox.addMany(tx, messages);
      this.metrics.observeLag(attempt.refetched ? 'rest' : 'webhook', attempt.snapshot.updatedAt);
      if (attempt.refetched) this.metrics.events.inc({ outcome: 'refetched' });
      if (written.created) return 'created';
      return written.record.changed_fields.length > 0 ? 'updated' : 'unchanged';
    });
  }

  /** Why the upsert wrote nothing: a defect, an older event, or one GitLab must settle. */
  private async notWritten(
    tx: EntityManager,
    connection: ConnectionRecord,
    row: RequirementUpsertRow,
    attempt: Attempt,
  ): Promise<IssueEventOutcome> {
    const context = projectContextOf(connection);
    const stored = await this.requirements.findByIssue(tx, context, row.iid);
    if (!stored) return (await this.requirements.isDefect(tx, context, row.iid)) ? 'defect_skipped' : 'stale';
    const sameSecond =
      !row.exact &&
      Math.floor(stored.gitlab_updated_at.getTime() / 1000) * 1000 ===
        new Date(row.gitlab_updated_at).getTime();
    if (
      !attempt.refetched &&
      sameSecond &&
      stored.sync_state === 'synced' &&
      stored.connection_id === connection.connection_id &&
      !sameContent(stored, row)
    ) {
      throw new AskGitlab('two changes within the same second');
    }
    return 'stale';
  }

  private assertSameProject(connection: ConnectionRecord, projectIds: readonly number[]): void {
    const expected = Number(connection.gitlab_project_id);
    const foreign = projectIds.find((id) => id !== expected);
    if (foreign !== undefined) {
      throw new ValidationError(
        `event of GitLab project ${foreign}, but connection ${connection.connection_id} is for project ${expected}`,
      );
    }
  }

  /** The issue as GitLab has it now, or null when it is gone (or no longer an issue). */
  private async fetchIssue(connectionId: string, iid: number): Promise<IssueSnapshot | null> {
    const connection = await this.connections.find(this.dataSource.manager, connectionId);
    if (!connection) return null;
    const gitlabProjectId = Number(connection.gitlab_project_id);
    try {
      const gitlab = await this.access.clientFor(connectionId);
      return snapshotFromRestIssue(await gitlab.issues.get(gitlabProjectId, iid));
    } catch (error) {
      if (isAppError(error) && error.code === 'GITLAB_NOT_FOUND') return null;
      if (isAuthFailure(error)) {
        // Nothing to apply now; the reconciliation repairs the issue once the token works again.
        await this.access.reportAuthFailure(connectionId, error);
        return null;
      }
      if (isAppError(error) && error.code === 'NOT_CONNECTED') return null;
      throw error;
    }
  }
}
