import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';

import type { StreamDefinition } from '@testkase/contracts';

import type { NatsNaming } from './nats-naming';

export interface ConsumerDefinition {
  /** Stream key as in STREAMS (without prefix). */
  stream: string;
  /** `<consumer-app>-<purpose>` */
  durable: string;
  /** Subject filter without prefix. */
  filterSubject: string;
  /** Deliveries before a message is dead-lettered. */
  maxDeliver?: number;
  /**
   * The handler may hold messages (HoldMessage): the server then redelivers without limit and
   * only the runner's count of real failures dead-letters.
   */
  holds?: boolean;
  ackWaitMs?: number;
  maxAckPending?: number;
}

/** JetStream's wait for an ack before it redelivers, unless a consumer sets `ackWaitMs`. */
export const DEFAULT_ACK_WAIT_MS = 30_000;

const isAlreadyExists = (error: unknown) =>
  /already in use|already exists/i.test(String((error as Error)?.message));

/** Creates or updates each stream; safe to run from every replica at every start. */
export async function ensureStreams(
  jsm: JetStreamManager,
  naming: NatsNaming,
  definitions: readonly StreamDefinition[],
): Promise<void> {
  for (const definition of definitions) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: naming.stream(definition.name),
      subjects: definition.subjects.map((s) => naming.subject(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(definition.maxAgeMs),
      duplicate_window: nanos(definition.duplicateWindowMs),
      num_replicas: 1,
    };
    const existing = await jsm.streams.info(config.name).catch(() => null);
    if (!existing) {
      try {
        await jsm.streams.add(config);
        continue;
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
    await jsm.streams.update(config.name, config);
  }
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  naming: NatsNaming,
  definition: ConsumerDefinition,
): Promise<void> {
  const stream = naming.stream(definition.stream);
  const config: Partial<ConsumerConfig> = {
    durable_name: definition.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: naming.subject(definition.filterSubject),
    // The runner counts deliveries itself and dead-letters on the last one; the server's limit is a backstop.
    max_deliver: definition.holds ? -1 : (definition.maxDeliver ?? 5) + 1,
    ack_wait: nanos(definition.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_ack_pending: definition.maxAckPending ?? 1_000,
  };
  const existing = await jsm.consumers.info(stream, definition.durable).catch(() => null);
  if (!existing) {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
  const { durable_name: _name, deliver_policy: _policy, ...mutable } = config;
  await jsm.consumers.update(stream, definition.durable, mutable);
}
