import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, gitlabDeliveryOf } from '@testkase/consumer-kit';
import { gitlabEventsOfKind, STREAMS } from '@testkase/contracts';
import { parseNoteHook } from '@testkase/gitlab';
import { ConsumerRegistry, type InboundMessage } from '@testkase/platform';
import { findDefectMarker } from '@testkase/sync-rules';
import { isAppError, TransientError, ValidationError } from '@testkase/util';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import { RelayMetrics, type NoteEventOutcome } from '../metrics/relay.metrics';
import { TargetRepository } from '../targets/target.repository';
import { NoteRelay } from './note-relay';

export const NOTE_EVENTS_CONSUMER = 'comment-relay-notes';

/** The embedded issue's description, when the payload has one (a pushed issue carries our marker). */
function issueDescriptionOf(body: unknown): string | null {
  const issue = (body as { issue?: unknown } | null)?.issue;
  if (typeof issue !== 'object' || issue === null) return null;
  const description = (issue as Record<string, unknown>)['description'];
  return typeof description === 'string' ? description : null;
}

/**
 * GitLab note events (`gitlab.events.<connectionId>.note`): a note on a pushed defect's issue goes
 * to TestKase (NoteRelay); notes on other issues, on merge requests and the like are acknowledged.
 * A note on an issue that carries a defect marker but whose push comment-relay has not heard of
 * yet is retried (the push's event is on its way) and dead-lettered with the reason if it never
 * comes. A payload that is not a GitLab note of the connection's project is dead-lettered at once.
 */
@Injectable()
export class NoteEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly targets: TargetRepository,
    private readonly relay: NoteRelay,
    private readonly metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      stream: STREAMS.GITLAB_EVENTS.name,
      durable: NOTE_EVENTS_CONSUMER,
      filterSubject: gitlabEventsOfKind('note'),
      handler: (message) => this.handle(message),
      concurrency: this.config.NOTE_EVENTS_CONCURRENCY,
      maxDeliver: 10,
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    let outcome: NoteEventOutcome;
    try {
      outcome = await this.process(message);
    } catch (error) {
      if (isAppError(error) && !error.transient) this.metrics.events.inc({ outcome: 'rejected' });
      throw error;
    }
    this.metrics.events.inc({ outcome });
  }

  private async process(message: InboundMessage): Promise<NoteEventOutcome> {
    const { connectionId, eventId, body } = gitlabDeliveryOf(message);
    const parsed = parseNoteHook(body);
    if (parsed.kind !== 'issue_note') return 'not_ours';
    const tx = this.dataSource.manager;
    const connection = await this.connections.find(tx, connectionId);
    if (!connection || connection.state !== 'active') return 'connection_inactive';
    const foreign = parsed.projectIds.find((id) => id !== Number(connection.gitlab_project_id));
    if (foreign !== undefined) {
      throw new ValidationError(
        `event of GitLab project ${foreign}, but connection ${connectionId} is for project ${connection.gitlab_project_id}`,
      );
    }
    const note = parsed.snapshot;
    if (note.system) return 'system';
    const defect = await this.targets.defectOfIssue(tx, connectionId, note.issueIid);
    if (!defect) {
      if (await this.targets.isRequirementIssue(tx, connectionId, note.issueIid)) return 'not_ours';
      if (findDefectMarker(issueDescriptionOf(body)) === null) return 'not_ours';
      throw new TransientError(
        `note ${note.noteId} is on issue ${note.issueIid}, which carries a defect marker, but no pushed defect of this connection is known for it yet`,
      );
    }
    return this.relay.apply(connectionId, defect, note, { eventId, inbox: NOTE_EVENTS_CONSUMER });
  }
}
