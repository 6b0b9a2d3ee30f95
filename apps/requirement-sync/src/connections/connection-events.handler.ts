import { Injectable, type OnModuleInit } from '@nestjs/common';

import {
  ConnectionConnected,
  ConnectionConnectedV1,
  ConnectionDisconnected,
  ConnectionDisconnectedV1,
  ResyncRequested,
  ResyncRequestedV1,
  STREAMS,
} from '@testkase/contracts';
import { ConsumerRegistry, type InboundMessage } from '@testkase/platform';

import { cloudEventOf, validatedData } from '../messaging/validated-event';
import { ConnectionLifecycleService, CONNECTIONS_CONSUMER } from './connection-lifecycle.service';

/**
 * `integration.connection.*` from connection-service, one at a time in stream order: connected,
 * disconnected, resync_requested. Other connection events are not for this service.
 */
@Injectable()
export class ConnectionEventsHandler implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly lifecycle: ConnectionLifecycleService,
  ) {}

  onModuleInit(): void {
    this.consumers.register({
      stream: STREAMS.INTEGRATION.name,
      durable: CONNECTIONS_CONSUMER,
      filterSubject: 'integration.connection.>',
      handler: (message) => this.handle(message),
      concurrency: 1,
      maxDeliver: 10,
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    switch (message.subject) {
      case ConnectionConnected.subject: {
        const event = cloudEventOf(message);
        await this.lifecycle.connected(event.id, await validatedData(ConnectionConnectedV1, event.data));
        return;
      }
      case ConnectionDisconnected.subject: {
        const event = cloudEventOf(message);
        await this.lifecycle.disconnected(
          event.id,
          await validatedData(ConnectionDisconnectedV1, event.data),
        );
        return;
      }
      case ResyncRequested.subject: {
        const event = cloudEventOf(message);
        await this.lifecycle.resyncRequested(event.id, await validatedData(ResyncRequestedV1, event.data));
        return;
      }
      default:
        return;
    }
  }
}
