import { MsgHdrsImpl } from 'nats';

import { gitlabEventSubject, type GitlabEventKind } from '@testkase/contracts';
import type { Logger, NatsClient } from '@testkase/platform';

import type { PipelinedJetStreamPublisher } from '../messaging/pipelined-publisher.adapter';
import type { SpoolRelay } from '../spool/spool-relay.service';
import type { SpoolRepository } from '../spool/spool.repository';
import type { DeliveryOutcome, GatewayMetrics } from './webhook.metrics';

export interface AuthenticatedDelivery {
  connectionId: string;
  kind: GitlabEventKind;
  msgId: string;
  /** Message headers without Nats-Msg-Id. */
  headers: Record<string, string>;
  body: Buffer;
}

export type IntakeOutcome = Extract<
  DeliveryOutcome,
  'published' | 'duplicate' | 'spooled' | 'parked' | 'unavailable'
>;

/**
 * Makes a delivery durable: JetStream first (the answer waits for its ack); when NATS is down or
 * does not ack in time, the gateway's Postgres spool, which the relay drains later. Only when
 * neither can take it is the outcome `unavailable` (503).
 */
export class DeliveryIntakeService {
  constructor(
    private readonly nats: NatsClient,
    private readonly publisher: PipelinedJetStreamPublisher,
    private readonly spool: SpoolRepository,
    private readonly relay: SpoolRelay,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  async accept(delivery: AuthenticatedDelivery): Promise<IntakeOutcome> {
    const subject = gitlabEventSubject(delivery.connectionId, delivery.kind);
    const record: Record<string, string[]> = { 'Nats-Msg-Id': [delivery.msgId] };
    for (const name in delivery.headers) record[name] = [delivery.headers[name] as string];
    const started = performance.now();
    const outcome = await this.publisher.publish(
      this.nats.naming.subject(subject),
      delivery.body,
      MsgHdrsImpl.fromRecord(record),
    );
    if (outcome.ok) {
      this.metrics.ackLatency.observe((performance.now() - started) / 1000);
      return outcome.duplicate ? 'duplicate' : 'published';
    }
    const parkedReason =
      outcome.reason === 'too_large' ? (outcome.detail ?? 'too large for NATS') : undefined;
    try {
      await this.spool.insert({
        subject,
        msgId: delivery.msgId,
        headers: delivery.headers,
        body: delivery.body,
        parkedReason,
      });
    } catch (error) {
      this.logger.error(
        { err: error, connectionId: delivery.connectionId, msgId: delivery.msgId, publish: outcome.reason },
        'delivery could be neither published nor spooled',
      );
      return 'unavailable';
    }
    if (parkedReason) {
      this.logger.error(
        {
          connectionId: delivery.connectionId,
          msgId: delivery.msgId,
          bytes: delivery.body.length,
          reason: parkedReason,
        },
        'delivery is too large for NATS; parked in the spool',
      );
      return 'parked';
    }
    this.logger.warn(
      {
        connectionId: delivery.connectionId,
        msgId: delivery.msgId,
        publish: outcome.reason,
        detail: outcome.detail,
      },
      'JetStream did not take the delivery; spooled',
    );
    this.relay.wake();
    return 'spooled';
  }
}
