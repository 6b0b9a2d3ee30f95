import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { LaneSignals } from '@testkase/consumer-kit';
import {
  DefectPriorityChanged,
  DefectPriorityChangedV1,
  DefectPushed,
  DefectPushedV1,
  DefectStatusChanged,
  DefectStatusChangedV1,
  DefectUpdated,
  DefectUpdatedV1,
  RequirementDeprecated,
  RequirementDeprecatedV1,
  RequirementDetached,
  RequirementDetachedV1,
  RequirementUpserted,
  RequirementUpsertedBatch,
  RequirementUpsertedBatchV1,
  RequirementUpsertedV1,
  STREAMS,
  type DefectV1,
  type RequirementV1,
} from '@testkase/contracts';
import {
  cloudEventOf,
  ConsumerRegistry,
  Inbox,
  validatedData,
  type InboundMessage,
} from '@testkase/platform';

import { CommentRepository } from '../comments/comment.repository';
import { LinkRepository } from '../links/link.repository';
import { TargetRepository } from './target.repository';

export const REQUIREMENT_EVENTS_CONSUMER = 'comment-relay-requirements';
export const DEFECT_EVENTS_CONSUMER = 'comment-relay-defects';

type Carrying<K extends string, T> = new () => { [key in K]: T };

const REQUIREMENT_EVENTS: Readonly<Record<string, Carrying<'requirement', RequirementV1>>> = {
  [RequirementUpserted.subject]: RequirementUpsertedV1,
  [RequirementDeprecated.subject]: RequirementDeprecatedV1,
  [RequirementDetached.subject]: RequirementDetachedV1,
};

const DEFECT_EVENTS: Readonly<Record<string, Carrying<'defect', DefectV1>>> = {
  [DefectPushed.subject]: DefectPushedV1,
  [DefectUpdated.subject]: DefectUpdatedV1,
  [DefectStatusChanged.subject]: DefectStatusChangedV1,
  [DefectPriorityChanged.subject]: DefectPriorityChangedV1,
};

/**
 * What comment-relay learns from the other services (TESTKASE_EVENTS): which GitLab issue each
 * synced requirement and each pushed defect is, and whether it is still synced. A requirement or
 * defect that becomes known makes the links and comments that waited for it due; a requirement
 * whose confidentiality changed gets its comment made again with the matching visibility.
 */
@Injectable()
export class TargetEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly targets: TargetRepository,
    private readonly links: LinkRepository,
    private readonly comments: CommentRepository,
    private readonly signals: LaneSignals,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      stream: STREAMS.TESTKASE_EVENTS.name,
      durable: REQUIREMENT_EVENTS_CONSUMER,
      filterSubject: 'testkase.requirement.>',
      handler: (message) => this.handleRequirement(message),
      concurrency: 16,
      maxDeliver: 10,
    });
    this.consumers.register({
      stream: STREAMS.TESTKASE_EVENTS.name,
      durable: DEFECT_EVENTS_CONSUMER,
      filterSubject: 'testkase.defect.>',
      handler: (message) => this.handleDefect(message),
      concurrency: 16,
      maxDeliver: 10,
    });
  }

  async handleRequirement(message: InboundMessage): Promise<void> {
    if (message.subject === RequirementUpsertedBatch.subject) return this.handleRequirementBatch(message);
    const payloadClass = REQUIREMENT_EVENTS[message.subject];
    if (!payloadClass) return;
    const event = cloudEventOf(message);
    const { requirement } = await validatedData(payloadClass, event.data);
    const wake = new Set<string>();
    await this.inbox.once(this.dataSource, REQUIREMENT_EVENTS_CONSUMER, event.id, (tx) =>
      this.applyRequirement(tx, requirement, wake),
    );
    for (const connectionId of wake) this.signals.work(connectionId);
  }

  /**
   * `upserted_batch`: each item as its own `upserted` event would be, all in one transaction under
   * the batch's event id (docs/ARCHITECTURE.md, "Events for TestKase core"). The requirements are
   * locked in id order, so two batches (or a batch and a single event) never wait on each other
   * in a cycle.
   */
  private async handleRequirementBatch(message: InboundMessage): Promise<void> {
    const event = cloudEventOf(message);
    const { items } = await validatedData(RequirementUpsertedBatchV1, event.data);
    const newest = new Map<string, RequirementV1>();
    for (const { requirement } of items) {
      const seen = newest.get(requirement.id);
      if (!seen || seen.version < requirement.version) newest.set(requirement.id, requirement);
    }
    const ordered = [...newest.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const wake = new Set<string>();
    await this.inbox.once(this.dataSource, REQUIREMENT_EVENTS_CONSUMER, event.id, async (tx) => {
      for (const requirement of ordered) await this.applyRequirement(tx, requirement, wake);
    });
    for (const connectionId of wake) this.signals.work(connectionId);
  }

  /** One requirement's new state, forward-only by version; adds its connection to `wake` when links wait for it. */
  private async applyRequirement(
    tx: EntityManager,
    requirement: RequirementV1,
    wake: Set<string>,
  ): Promise<void> {
    await this.targets.lockRequirement(tx, requirement.id);
    const before = await this.targets.findRequirement(tx, requirement.id);
    const row = await this.targets.upsertRequirement(tx, requirement);
    if (!row || row.sync_state !== 'synced' || !row.connection_id) return;
    const rewrite = before !== null && before.confidential !== row.confidential;
    if (await this.links.targetKnown(tx, row.project_id, row.requirement_id, row.connection_id, rewrite))
      wake.add(row.connection_id);
  }

  async handleDefect(message: InboundMessage): Promise<void> {
    // Our own comment events share the subject space: not targets.
    const payloadClass = DEFECT_EVENTS[message.subject];
    if (!payloadClass) return;
    const event = cloudEventOf(message);
    const { defect } = await validatedData(payloadClass, event.data);
    if (!defect.issue) return;
    let wake: string | null = null;
    await this.inbox.once(this.dataSource, DEFECT_EVENTS_CONSUMER, event.id, async (tx) => {
      await this.targets.lockDefect(tx, defect.projectId, defect.defectId);
      const row = await this.targets.upsertDefect(tx, defect);
      if (!row?.connection_id) return;
      if ((await this.comments.targetKnown(tx, row.project_id, row.defect_id, row.connection_id)) > 0)
        wake = row.connection_id;
    });
    if (wake) this.signals.work(wake);
  }
}
