import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  DefectPushFinished,
  DefectPushFinishedV1,
  DefectPushStarted,
  DefectPushStartedV1,
  STREAMS,
} from '@testkase/contracts';
import {
  cloudEventOf,
  ConsumerRegistry,
  Inbox,
  LOGGER,
  validatedData,
  type InboundMessage,
  type Logger,
} from '@testkase/platform';

import { RequirementRepository } from '../requirements/requirement.repository';
import { SyncScheduler } from '../sync/sync-scheduler.service';

export const DEFECT_EVENTS_CONSUMER = 'requirement-sync-defects';

/**
 * `integration.defect.push_started|push_finished` from defect-sync: which pushes are in flight (issues
 * carrying their marker stay out of the requirements meanwhile) and which issue each created (a
 * defect for good, whatever its description says later). Everything else about defects is not ours.
 */
@Injectable()
export class DefectEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly inbox: Inbox,
    private readonly requirements: RequirementRepository,
    private readonly scheduler: SyncScheduler,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      stream: STREAMS.INTEGRATION.name,
      durable: DEFECT_EVENTS_CONSUMER,
      filterSubject: 'integration.defect.>',
      handler: (message) => this.handle(message),
      concurrency: 8,
      maxDeliver: 10,
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    switch (message.subject) {
      case DefectPushStarted.subject: {
        const event = cloudEventOf(message);
        const data = await validatedData(DefectPushStartedV1, event.data);
        await this.inbox.once(this.dataSource, DEFECT_EVENTS_CONSUMER, event.id, (tx) =>
          this.requirements.pushStarted(tx, data),
        );
        return;
      }
      case DefectPushFinished.subject: {
        const event = cloudEventOf(message);
        const data = await validatedData(DefectPushFinishedV1, event.data);
        let alreadyRequirement = false;
        const applied = await this.inbox.once(
          this.dataSource,
          DEFECT_EVENTS_CONSUMER,
          event.id,
          async (tx) => {
            ({ alreadyRequirement } = await this.requirements.pushFinished(tx, data));
          },
        );
        if (alreadyRequirement) {
          // Only when defect-sync's events came later than DEFECT_MARKER_GRACE after the issue.
          this.logger.warn(
            { connectionId: data.connectionId, defectId: data.defectId, iid: data.iid },
            'the issue of a pushed defect had already been imported as a requirement; it stays one',
          );
        }
        if (applied) this.scheduler.wake();
        return;
      }
      default:
        return;
    }
  }
}
