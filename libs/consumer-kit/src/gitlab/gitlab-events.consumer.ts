import { gitlabEventsOfKind, STREAMS, type GitlabEventKind } from '@testkase/contracts';
import { HoldMessage, type ConsumerRegistry, type InboundMessage } from '@testkase/platform';
import { isAppError, ValidationError } from '@testkase/util';

import type { ConnectionRecord } from '../connections/connection.record';
import { gitlabDeliveryOf, type GitlabDelivery } from './gitlab-delivery';

/** A counter of handled events by outcome (a prom-client Counter with an `outcome` label). */
export interface OutcomeCounter {
  inc(labels: { outcome: string }): void;
}

export interface GitlabEventsConsumerOptions<O extends string> {
  /** `<service>-<what>`: the durable consumer's name, and the inbox key of its deliveries. */
  readonly durable: string;
  readonly kind: GitlabEventKind;
  readonly concurrency: number;
  /** Counts each delivery's outcome, and `rejected` for a permanent failure (a dead letter). */
  readonly outcomes: OutcomeCounter;
  /**
   * Whether an operator paused the connection (ConnectionProjection.isPaused): its deliveries are
   * then held — redelivered later, never dead-lettered for it — until it is resumed.
   */
  readonly paused: (connectionId: string) => Promise<boolean>;
  /** Handles one delivery; throws to have it retried (transient) or dead-lettered (permanent). */
  readonly process: (delivery: GitlabDelivery, message: InboundMessage) => Promise<O>;
}

/**
 * The one way a service consumes GitLab webhook deliveries (`gitlab.events.*.<kind>`): a durable
 * consumer on GITLAB_EVENTS, each delivery parsed as {@link GitlabDelivery}, its outcome counted.
 * A permanent failure is counted `rejected` and dead-lettered by the platform with its reason; a
 * transient one is redelivered with backoff, at most 10 times.
 */
export function consumeGitlabEvents<O extends string>(
  consumers: ConsumerRegistry,
  options: GitlabEventsConsumerOptions<O>,
): void {
  consumers.register({
    stream: STREAMS.GITLAB_EVENTS.name,
    durable: options.durable,
    filterSubject: gitlabEventsOfKind(options.kind),
    concurrency: options.concurrency,
    maxDeliver: 10,
    holds: true,
    handler: async (message) => {
      let outcome: O;
      try {
        const delivery = gitlabDeliveryOf(message);
        if (await options.paused(delivery.connectionId)) {
          options.outcomes.inc({ outcome: 'held' });
          throw new HoldMessage(`connection ${delivery.connectionId} is paused`);
        }
        outcome = await options.process(delivery, message);
      } catch (error) {
        if (isAppError(error) && !error.transient) options.outcomes.inc({ outcome: 'rejected' });
        throw error;
      }
      options.outcomes.inc({ outcome });
    },
  });
}

/**
 * The error for a payload that names a GitLab project other than the connection's (a hostile or
 * misrouted delivery: it must never touch this connection's data), or null when every id matches.
 */
export function foreignProjectError(
  connection: ConnectionRecord,
  projectIds: readonly number[],
): ValidationError | null {
  const foreign = projectIds.find((id) => id !== Number(connection.gitlab_project_id));
  if (foreign === undefined) return null;
  return new ValidationError(
    `event of GitLab project ${foreign}, but connection ${connection.connection_id} is for project ${connection.gitlab_project_id}`,
  );
}
