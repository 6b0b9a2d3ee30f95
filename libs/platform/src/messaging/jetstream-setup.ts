import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';

import { KV_BUCKETS, STREAMS, type StreamDefinition } from '@testkase/contracts';

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
   * The handler may hold messages (HoldMessage). Every consumer's server-side limit is off now (a
   * delivery that failed because Postgres was away is held too); kept for the callers that say so.
   */
  holds?: boolean;
  ackWaitMs?: number;
  maxAckPending?: number;
}

/** JetStream's wait for an ack before it redelivers, unless a consumer sets `ackWaitMs`. */
export const DEFAULT_ACK_WAIT_MS = 30_000;

const isAlreadyExists = (error: unknown) =>
  /already in use|already exists/i.test(String((error as Error)?.message));

/**
 * The operator's JetStream settings (JETSTREAM_* variables, docs/ARCHITECTURE.md, "JetStream
 * settings"): applied to streams and KV buckets when they are created, and by `setup-jetstream`.
 */
export interface JetStreamSettings {
  /** Replicas of every stream and bucket (1 in development, 3 in production). */
  replicas: number;
  /** Limit of each stream and bucket in bytes; -1: none. */
  maxBytes: number;
  /** Retention of every stream (max_age); undefined: each stream's own (STREAMS). */
  maxAgeMs?: number;
  /**
   * true: the apps create missing streams and buckets. false: a hook Job (`setup-jetstream`) manages
   * them and the apps only look them up (no stream-admin rights needed).
   */
  manage: boolean;
}

export const DEFAULT_JETSTREAM_SETTINGS: JetStreamSettings = { replicas: 1, maxBytes: -1, manage: true };

/**
 * `create`: create missing streams, leave existing ones as configured (add missing subjects only,
 * warn about other differences). `apply`: also set replicas, max_bytes and max_age of existing
 * ones to the settings (`setup-jetstream`, the operator's deliberate change).
 */
export type StreamSetupMode = 'create' | 'apply';

interface SetupLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

const SILENT: SetupLogger = { warn: () => undefined, info: () => undefined };

function streamConfig(
  naming: NatsNaming,
  definition: StreamDefinition,
  settings: JetStreamSettings,
): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: naming.stream(definition.name),
    subjects: definition.subjects.map((s) => naming.subject(s)),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(settings.maxAgeMs ?? definition.maxAgeMs),
    max_bytes: settings.maxBytes,
    duplicate_window: nanos(definition.duplicateWindowMs),
    num_replicas: settings.replicas,
  };
}

/**
 * Creates each missing stream with the settings; safe to run from every replica at every start. A
 * start never resets what an operator configured on an existing stream: it only adds missing
 * subjects and logs the differences (`mode: 'apply'` changes them: `setup-jetstream`).
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  naming: NatsNaming,
  definitions: readonly StreamDefinition[],
  settings: JetStreamSettings = DEFAULT_JETSTREAM_SETTINGS,
  logger: SetupLogger = SILENT,
  mode: StreamSetupMode = 'create',
): Promise<void> {
  for (const definition of definitions) {
    const config = streamConfig(naming, definition, settings);
    let existing = await jsm.streams.info(config.name).catch(() => null);
    if (!existing) {
      try {
        await jsm.streams.add(config);
        logger.info({ stream: config.name, replicas: config.num_replicas }, 'stream created');
        continue;
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        existing = await jsm.streams.info(config.name);
      }
    }
    const current = existing.config;
    const subjects = [...new Set([...(current.subjects ?? []), ...config.subjects])];
    const differences = {
      ...(current.num_replicas !== config.num_replicas
        ? { replicas: { configured: config.num_replicas, actual: current.num_replicas } }
        : {}),
      ...(current.max_bytes !== config.max_bytes
        ? { maxBytes: { configured: config.max_bytes, actual: current.max_bytes } }
        : {}),
      ...(current.max_age !== config.max_age
        ? { maxAgeNs: { configured: config.max_age, actual: current.max_age } }
        : {}),
      ...(current.retention !== config.retention
        ? { retention: { configured: config.retention, actual: current.retention } }
        : {}),
    };
    const differs = Object.keys(differences).length > 0;
    if (mode === 'apply') {
      if (!differs && subjects.length === (current.subjects ?? []).length) continue;
      await jsm.streams.update(config.name, { ...current, ...config, subjects });
      logger.info({ stream: config.name, changed: differences }, 'stream updated');
      continue;
    }
    if (differs) {
      logger.warn(
        { stream: config.name, differences },
        'stream settings differ from JETSTREAM_*; left as they are (setup-jetstream applies them)',
      );
    }
    if (subjects.length !== (current.subjects ?? []).length) {
      await jsm.streams.update(config.name, { ...current, subjects });
      logger.info({ stream: config.name, subjects }, 'stream subjects added');
    }
  }
}

/**
 * JETSTREAM_MANAGE=false: looks the streams up, creates nothing. Throws naming the missing ones
 * (the hook Job `setup-jetstream` has not run, or NATS lost them).
 */
export async function verifyStreams(
  jsm: JetStreamManager,
  naming: NatsNaming,
  definitions: readonly StreamDefinition[],
): Promise<void> {
  const missing: string[] = [];
  for (const definition of definitions) {
    const name = naming.stream(definition.name);
    const found = await jsm.streams.info(name).then(
      () => true,
      (error: unknown) => {
        if (/stream not found/i.test(String((error as Error)?.message))) return false;
        throw error;
      },
    );
    if (!found) missing.push(name);
  }
  if (missing.length) {
    throw new Error(
      `JetStream streams missing: ${missing.join(', ')} (JETSTREAM_MANAGE=false: run setup-jetstream)`,
    );
  }
}

/**
 * Options to open a KV bucket with: created with the settings if missing (JETSTREAM_MANAGE=true),
 * else bound only (it must exist: `setup-jetstream` creates it). An existing bucket is never changed.
 */
export const kvOptionsOf = (
  settings: JetStreamSettings,
): { history: number; replicas: number; max_bytes: number } | { bindOnly: true } =>
  settings.manage
    ? { history: 1, replicas: settings.replicas, max_bytes: settings.maxBytes }
    : { bindOnly: true };

/**
 * Creates each missing KV bucket with the settings (history 1). An existing bucket keeps what the
 * operator set, with a warning on differences, unless `mode` is `apply` (`setup-jetstream`).
 */
export async function ensureKvBuckets(
  js: JetStreamClient,
  jsm: JetStreamManager,
  naming: NatsNaming,
  buckets: readonly string[],
  settings: JetStreamSettings = DEFAULT_JETSTREAM_SETTINGS,
  logger: SetupLogger = SILENT,
  mode: StreamSetupMode = 'create',
): Promise<void> {
  for (const bucket of buckets) {
    const name = naming.bucket(bucket);
    const existing = await jsm.streams.info(`KV_${name}`).catch(() => null);
    if (!existing) {
      await js.views.kv(name, { history: 1, replicas: settings.replicas, max_bytes: settings.maxBytes });
      logger.info({ bucket: name, replicas: settings.replicas }, 'KV bucket created');
      continue;
    }
    const current = existing.config;
    if (current.num_replicas === settings.replicas && current.max_bytes === settings.maxBytes) continue;
    const differences = {
      replicas: { configured: settings.replicas, actual: current.num_replicas },
      maxBytes: { configured: settings.maxBytes, actual: current.max_bytes },
    };
    if (mode === 'apply') {
      await jsm.streams.update(current.name, {
        ...current,
        num_replicas: settings.replicas,
        max_bytes: settings.maxBytes,
      });
      logger.info({ bucket: name, changed: differences }, 'KV bucket updated');
    } else {
      logger.warn(
        { bucket: name, differences },
        'KV bucket settings differ from JETSTREAM_*; left as they are (setup-jetstream applies them)',
      );
    }
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
    // The runner counts deliveries itself and dead-letters on the last one. The server redelivers
    // without limit: held deliveries (HoldMessage, a database that is away) must not count.
    max_deliver: -1,
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

/**
 * What `setup-jetstream` (the chart's pre-install/pre-upgrade hook Job) does: every stream and KV
 * bucket of the system, created or brought to the settings (`apply`). The apps then run with
 * JETSTREAM_MANAGE=false and need no stream-admin rights.
 */
export async function setupJetStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  naming: NatsNaming,
  settings: JetStreamSettings,
  logger: SetupLogger = SILENT,
): Promise<void> {
  await ensureStreams(jsm, naming, Object.values(STREAMS), settings, logger, 'apply');
  await ensureKvBuckets(js, jsm, naming, Object.values(KV_BUCKETS), settings, logger, 'apply');
}
