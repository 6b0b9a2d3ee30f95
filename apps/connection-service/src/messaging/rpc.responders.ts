import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';

import { RPC } from '@testkase/contracts';
import { LOGGER, NatsClient, type Logger } from '@testkase/platform';

import { ConnectionLookup } from './connection-lookup.service';
import { serveRpc } from './rpc-responder';

/** Serves `rpc.connection.credentials` and `rpc.connection.webhook_verifier` once NATS is up. */
@Injectable()
export class RpcResponders implements OnApplicationBootstrap {
  constructor(
    private readonly nats: NatsClient,
    private readonly lookup: ConnectionLookup,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.serve();
  }

  private async serve(): Promise<void> {
    try {
      await serveRpc(
        this.nats,
        RPC.connectionCredentials,
        (request) => this.lookup.credentials(request),
        this.logger,
      );
      await serveRpc(
        this.nats,
        RPC.webhookVerifier,
        (request) => this.lookup.webhookVerifier(request),
        this.logger,
      );
      this.logger.info(
        { subjects: [RPC.connectionCredentials, RPC.webhookVerifier] },
        'rpc responders listening',
      );
    } catch (error) {
      this.logger.error({ err: error }, 'rpc responders could not subscribe');
    }
  }
}
