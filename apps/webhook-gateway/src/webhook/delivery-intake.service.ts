import { gitlabEventSubject, type GitlabEventKind } from '@testkase/contracts';
import type { Logger, NatsClient } from '@testkase/platform';

import {
  MessageHeaders,
  type PipelinedJetStreamPublisher,
  type PublishOutcome,
} from '../messaging/pipelined-publisher.adapter';
import type { SpoolRelay } from '../spool/spool-relay.service';
import type { ParkedQuota, SpoolRepository } from '../spool/spool.repository';
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
  'published' | 'duplicate' | 'spooled' | 'parked' | 'unavailable' | 'over_quota' | 'spool_full'
>;

/** Bytes of parked deliveries kept per connection and for all together. */
export type ParkedLimits = Omit<ParkedQuota, 'subjectPrefix'>;

/** What the spool keeps: parked bytes (per connection and in all) and pending bytes per connection. */
export interface SpoolLimits extends ParkedLimits {
  pendingConnectionBytes: number;
}

/**
 * Makes a delivery durable: JetStream first (the answer waits for its ack); when NATS is down or
 * does not ack in time, the gateway's Postgres spool, which the relay drains later. Only when
 * neither can take it is the outcome `unavailable` (503). Callback-based: the request path creates
 * no promise until it has to spool.
 */
export class DeliveryIntakeService {
  constructor(
    private readonly nats: NatsClient,
    private readonly publisher: PipelinedJetStreamPublisher,
    private readonly spool: SpoolRepository,
    private readonly relay: SpoolRelay,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly limits: SpoolLimits,
  ) {}

  accept(delivery: AuthenticatedDelivery, done: (outcome: IntakeOutcome) => void): void {
    const subject = gitlabEventSubject(delivery.connectionId, delivery.kind);
    const record: Record<string, string> = { 'Nats-Msg-Id': delivery.msgId };
    for (const name in delivery.headers) record[name] = delivery.headers[name] as string;
    const started = performance.now();
    this.publisher.publish(
      this.nats.naming.subject(subject),
      delivery.body,
      new MessageHeaders(record),
      (outcome) => {
        if (outcome.ok) {
          this.metrics.ackLatency.observe((performance.now() - started) / 1000);
          done(outcome.duplicate ? 'duplicate' : 'published');
        } else {
          void this.toSpool(delivery, subject, outcome).then(done);
        }
      },
    );
  }

  private async toSpool(
    delivery: AuthenticatedDelivery,
    subject: string,
    failure: Extract<PublishOutcome, { ok: false }>,
  ): Promise<IntakeOutcome> {
    const parkedReason =
      failure.reason === 'too_large' ? (failure.detail ?? 'too large for NATS') : undefined;
    const facts = { connectionId: delivery.connectionId, msgId: delivery.msgId, publish: failure.reason };
    const entry = { subject, msgId: delivery.msgId, headers: delivery.headers, body: delivery.body };
    try {
      if (parkedReason === undefined) {
        if (!(await this.spool.insert(entry, this.limits.pendingConnectionBytes))) {
          this.logger.error(
            { ...facts, bytes: delivery.body.length, limit: this.limits.pendingConnectionBytes },
            'JetStream did not take the delivery and its connection has used up its spool quota; refused',
          );
          return 'spool_full';
        }
      } else {
        const { connectionBytes, totalBytes } = this.limits;
        const quota = {
          connectionBytes,
          totalBytes,
          subjectPrefix: subject.slice(0, subject.lastIndexOf('.') + 1),
        };
        if (!(await this.spool.insertParked({ ...entry, parkedReason }, quota))) {
          this.logger.error(
            { ...facts, bytes: delivery.body.length, connectionBytes, totalBytes },
            'delivery is too large for NATS and the parked quota is used up; refused',
          );
          return 'over_quota';
        }
      }
    } catch (error) {
      this.logger.error({ ...facts, err: error }, 'delivery could be neither published nor spooled');
      return 'unavailable';
    }
    if (parkedReason) {
      this.logger.error(
        { ...facts, bytes: delivery.body.length, reason: parkedReason },
        'delivery is too large for NATS; parked in the spool',
      );
      return 'parked';
    }
    this.logger.warn({ ...facts, detail: failure.detail }, 'JetStream did not take the delivery; spooled');
    this.relay.wake();
    return 'spooled';
  }
}
