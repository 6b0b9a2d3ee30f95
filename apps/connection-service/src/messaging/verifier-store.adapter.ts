import { Inject, Injectable } from '@nestjs/common';
import type { KV } from 'nats';

import { KV_BUCKETS, type WebhookVerifierV1 } from '@testkase/contracts';
import { kvOptionsOf, LOGGER, NatsClient, type Logger } from '@testkase/platform';

/**
 * The WEBHOOK_VERIFIERS key/value bucket (key = connection id): how the gateway learns, within a
 * second, which secret hash authenticates a connection's deliveries and whether it is still connected.
 */
@Injectable()
export class VerifierStore {
  private bucket?: Promise<KV>;

  constructor(
    private readonly nats: NatsClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Creates the bucket if missing (history 1, JETSTREAM_REPLICAS), or binds to it (always with
   * JETSTREAM_MANAGE=false). Idempotent, on every replica; never changes an existing bucket.
   */
  open(): Promise<KV> {
    this.bucket ??= this.nats.js.views
      .kv(this.nats.naming.bucket(KV_BUCKETS.webhookVerifiers), kvOptionsOf(this.nats.jetstreamSettings))
      .catch((error: unknown) => {
        this.bucket = undefined;
        throw error;
      });
    return this.bucket;
  }

  async put(verifier: WebhookVerifierV1): Promise<void> {
    await this.withBucket((kv) => kv.put(verifier.connectionId, JSON.stringify(verifier)));
  }

  async remove(connectionId: string): Promise<void> {
    await this.withBucket((kv) => kv.delete(connectionId));
  }

  async get(connectionId: string): Promise<WebhookVerifierV1 | null> {
    const entry = await this.withBucket((kv) => kv.get(connectionId));
    if (!entry || entry.operation !== 'PUT') return null;
    return entry.json<WebhookVerifierV1>();
  }

  /** One retry after re-opening, for a server that lost the bucket while we held a handle. */
  private async withBucket<T>(use: (kv: KV) => Promise<T>): Promise<T> {
    try {
      return await use(await this.open());
    } catch (error) {
      this.logger.warn({ err: error }, 'verifier bucket operation failed; reopening the bucket');
      this.bucket = undefined;
      return use(await this.open());
    }
  }
}
