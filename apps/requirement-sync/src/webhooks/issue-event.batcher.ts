import { Inject, Injectable } from '@nestjs/common';

import { LOGGER, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from '../config/config.token';
import type { RequirementSyncConfig } from '../config/requirement-sync.config';
import { IssueEventApplier, type IssueEventItem, type IssueEventResult } from './issue-event.applier';

interface Pending {
  readonly connectionId: string;
  readonly item: IssueEventItem;
  readonly resolve: (result: IssueEventResult) => void;
}

/**
 * Groups issue events into transactions. Nothing waits on purpose: an event that arrives while
 * fewer than ISSUE_EVENTS_BATCH_PARALLELISM batches are being written goes out at once, alone;
 * under load the events that queue up meanwhile go together (one connection per batch, at most
 * ISSUE_EVENTS_BATCH_SIZE), so a burst costs one commit per batch instead of one per event.
 * A batch that fails as a whole is retried event by event, so one bad event fails alone.
 */
@Injectable()
export class IssueEventBatcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly applier: IssueEventApplier,
    @Inject(REQUIREMENT_SYNC_CONFIG) private readonly config: RequirementSyncConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  submit(connectionId: string, item: IssueEventItem): Promise<IssueEventResult> {
    return new Promise((resolve) => {
      this.queue.push({ connectionId, item, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.config.ISSUE_EVENTS_BATCH_PARALLELISM) {
      const head = this.queue[0];
      if (!head) return;
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      for (const pending of this.queue) {
        const fits =
          pending.connectionId === head.connectionId && batch.length < this.config.ISSUE_EVENTS_BATCH_SIZE;
        (fits ? batch : rest).push(pending);
      }
      this.queue.splice(0, this.queue.length, ...rest);
      this.inFlight += 1;
      void this.write(head.connectionId, batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(connectionId: string, batch: readonly Pending[]): Promise<void> {
    try {
      const results = await this.applier.apply(
        connectionId,
        batch.map((pending) => pending.item),
      );
      batch.forEach((pending, index) => pending.resolve(results[index] ?? { error: new Error('no result') }));
    } catch (error) {
      const [only, ...others] = batch;
      if (only && others.length === 0) {
        only.resolve({ error });
        return;
      }
      this.logger.warn(
        { err: error, connectionId, events: batch.length },
        'batch failed; applying its events one by one',
      );
      for (const pending of batch) await this.write(connectionId, [pending]);
    }
  }
}
