import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  ConnectionProjection,
  consumeGitlabEvents,
  foreignProjectError,
  type GitlabDelivery,
} from '@testkase/consumer-kit';
import { parseNoteHook } from '@testkase/gitlab';
import { ConsumerRegistry } from '@testkase/platform';
import { findDefectMarker } from '@testkase/sync-rules';
import { TransientError } from '@testkase/util';

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
    consumeGitlabEvents(this.consumers, {
      durable: NOTE_EVENTS_CONSUMER,
      kind: 'note',
      concurrency: this.config.NOTE_EVENTS_CONCURRENCY,
      outcomes: this.metrics.events,
      paused: (connectionId) => this.connections.isPaused(this.dataSource.manager, connectionId),
      process: (delivery) => this.process(delivery),
    });
  }

  private async process({ connectionId, eventId, body }: GitlabDelivery): Promise<NoteEventOutcome> {
    const parsed = parseNoteHook(body);
    if (parsed.kind !== 'issue_note') return 'not_ours';
    const tx = this.dataSource.manager;
    const connection = await this.connections.find(tx, connectionId);
    if (!connection || connection.state !== 'active') return 'connection_inactive';
    const foreign = foreignProjectError(connection, parsed.projectIds);
    if (foreign) throw foreign;
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
