import {
  DeliveriesRefused,
  DeliveriesSeen,
  type DeliveriesRefusedV1,
  type DeliveriesSeenV1,
} from '@testkase/contracts';
import { buildCloudEvent, type EventPublisher, type Logger, type NatsClient } from '@testkase/platform';

import type { WebhookVerifierStore } from './verifier-store.service';

const SOURCE = 'testkase-gitlab/webhook-gateway';

interface Tally {
  count: number;
  lastDeliveryAt: number;
}

/**
 * Counts authenticated deliveries per connection and publishes `integration.webhook.deliveries_seen`
 * for each connection that had some, every interval (connection-service marks a `webhook_manual`
 * connection active on its first delivery). A summary that cannot be published is kept for the next.
 * Likewise `integration.webhook.deliveries_refused` from the refusals `verifiers` counted for known
 * connections (connection-service shows them and renews a secret GitLab no longer shares).
 */
export class DeliveriesSeenReporter {
  private tallies = new Map<string, Tally>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly nats: NatsClient,
    private readonly publisher: EventPublisher,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly verifiers?: WebhookVerifierStore,
  ) {}

  record(connectionId: string): void {
    const tally = this.tallies.get(connectionId);
    if (tally) {
      tally.count += 1;
      tally.lastDeliveryAt = Date.now();
    } else {
      this.tallies.set(connectionId, { count: 1, lastDeliveryAt: Date.now() });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  flush(): Promise<void> {
    this.flushing ??= this.publishAll().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async publishAll(): Promise<void> {
    await this.publishRefusals();
    if (this.tallies.size === 0 || !this.nats.isConnected) return;
    const tallies = this.tallies;
    this.tallies = new Map();
    await Promise.all(
      [...tallies].map(async ([connectionId, tally]) => {
        const data: DeliveriesSeenV1 = {
          connectionId,
          lastDeliveryAt: new Date(tally.lastDeliveryAt).toISOString(),
          count: tally.count,
        };
        try {
          await this.publisher.publishEvent(
            buildCloudEvent(SOURCE, DeliveriesSeen, data, { subject: connectionId }),
            DeliveriesSeen.subject,
          );
        } catch (error) {
          this.logger.warn({ err: error, connectionId }, 'deliveries_seen not published; will retry');
          this.merge(connectionId, tally);
        }
      }),
    );
  }

  private async publishRefusals(): Promise<void> {
    if (!this.verifiers || !this.nats.isConnected) return;
    const verifiers = this.verifiers;
    await Promise.all(
      [...verifiers.takeRefusals()].map(async ([connectionId, tally]) => {
        const data: DeliveriesRefusedV1 = {
          connectionId,
          firstRefusedAt: new Date(tally.firstRefusedAt).toISOString(),
          lastRefusedAt: new Date(tally.lastRefusedAt).toISOString(),
          count: tally.count,
        };
        try {
          await this.publisher.publishEvent(
            buildCloudEvent(SOURCE, DeliveriesRefused, data, { subject: connectionId }),
            DeliveriesRefused.subject,
          );
        } catch (error) {
          this.logger.warn({ err: error, connectionId }, 'deliveries_refused not published; will retry');
          verifiers.returnRefusals(connectionId, tally);
        }
      }),
    );
  }

  private merge(connectionId: string, tally: Tally): void {
    const current = this.tallies.get(connectionId);
    if (!current) {
      this.tallies.set(connectionId, tally);
      return;
    }
    current.count += tally.count;
    current.lastDeliveryAt = Math.max(current.lastDeliveryAt, tally.lastDeliveryAt);
  }
}
