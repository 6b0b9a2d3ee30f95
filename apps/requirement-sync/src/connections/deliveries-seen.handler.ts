import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { DeliveriesSeen, DeliveriesSeenV1, STREAMS } from '@testkase/contracts';
import {
  cloudEventOf,
  ConsumerRegistry,
  LOGGER,
  validatedData,
  type InboundMessage,
  type Logger,
} from '@testkase/platform';

import { ConnectionRepository } from './connection.repository';

export const DELIVERIES_SEEN_CONSUMER = 'requirement-sync-deliveries-seen';

/**
 * `integration.webhook.deliveries_seen` from the gateway: a connection's webhook delivers. Until the
 * first one, a `webhook_manual` connection is polled every POLL_INTERVAL_NO_HOOK; from then on every
 * RECONCILE_INTERVAL_MANUAL. Applying a summary twice changes nothing (the time only moves forward).
 */
@Injectable()
export class DeliveriesSeenHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      stream: STREAMS.INTEGRATION.name,
      durable: DELIVERIES_SEEN_CONSUMER,
      filterSubject: DeliveriesSeen.subject,
      handler: (message) => this.handle(message),
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    const data = await validatedData(DeliveriesSeenV1, cloudEventOf(message).data);
    const moved = await this.dataSource.transaction((tx) =>
      this.connections.deliveriesSeen(tx, data.connectionId, new Date(data.lastDeliveryAt)),
    );
    if (moved)
      this.logger.debug({ connectionId: data.connectionId, count: data.count }, 'webhook deliveries seen');
  }
}
