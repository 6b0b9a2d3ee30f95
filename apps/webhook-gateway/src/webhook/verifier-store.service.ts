import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { KV, KvEntry, QueuedIterator } from 'nats';

import {
  KV_BUCKETS,
  RPC,
  WebhookVerifierV1,
  type WebhookVerifierReply,
  type WebhookVerifierRequest,
} from '@testkase/contracts';
import { kvOptionsOf, type Logger, type NatsClient } from '@testkase/platform';
import { jitteredBackoff, sleep } from '@testkase/util';

import type { VerifierSnapshot } from './verifier-snapshot';
import { signingKeyOf } from './webhook-signature';

/** What the gateway keeps per connection: enough to authenticate a delivery, never the secret. */
export interface CachedVerifier {
  readonly connectionId: string;
  readonly active: boolean;
  /** sha256 of the hook's secret token, as bytes for timingSafeEqual. */
  readonly secretHash: Buffer;
  /** sha256 of the secret before a rotation, accepted until `previousUntil` (epoch ms). */
  readonly previousSecretHash?: Buffer;
  readonly previousUntil?: number;
  readonly signed: boolean;
  readonly updatedAt: string;
  /** HMAC key of a signed hook, fetched from connection-service on the first signed delivery. */
  signingKey?: Buffer;
  /** The key before a rotation, kept from the entry it replaced; accepted until `previousUntil`. */
  previousSigningKey?: Buffer;
}

/** Refused deliveries of one known connection since the last report. */
export interface RefusalTally {
  count: number;
  firstRefusedAt: number;
  lastRefusedAt: number;
}

export interface VerifierStoreSettings {
  lookupTimeoutMs: number;
  unknownTtlMs: number;
}

/**
 * Lookups to connection-service in flight at once. Beyond that a miss waits for the bucket's watch
 * instead (up to the lookup timeout), so that random ids filling the slots cannot refuse a new
 * connection: connection-service writes its entry before the hook exists.
 */
const MAX_CONCURRENT_LOOKUPS = 32;
/** Ids waiting for the watch at once; beyond that a miss is answered as unknown. */
const MAX_WAITING_FOR_WATCH = 1_000;
/** Bound on remembered unknown ids, so that a caller spraying random ids cannot grow memory. */
const MAX_REMEMBERED_UNKNOWN = 10_000;

export function toCachedVerifier(value: unknown): CachedVerifier | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const verifier = plainToInstance(WebhookVerifierV1, value);
  if (validateSync(verifier, { forbidUnknownValues: false }).length > 0) return undefined;
  return {
    connectionId: verifier.connectionId,
    active: verifier.state === 'active',
    secretHash: Buffer.from(verifier.secretSha256, 'hex'),
    ...(verifier.previousSecretSha256 && verifier.previousUntil
      ? {
          previousSecretHash: Buffer.from(verifier.previousSecretSha256, 'hex'),
          previousUntil: Date.parse(verifier.previousUntil),
        }
      : {}),
    signed: verifier.signed,
    updatedAt: verifier.updatedAt,
  };
}

/**
 * The gateway's view of every connection's webhook verifier. It watches the WEBHOOK_VERIFIERS
 * key/value bucket that connection-service writes (all current values, then every change, pushed
 * within milliseconds: a disconnect stops deliveries at once) and keeps them in memory, so the
 * request path needs no I/O. A miss (a connection created a moment ago) asks connection-service
 * once over request/reply; "unknown" answers are remembered briefly.
 * The view survives a NATS outage: the gateway keeps authenticating (and spooling) with what it has.
 */
export class WebhookVerifierStore {
  private readonly verifiers = new Map<string, CachedVerifier>();
  private readonly unknownUntil = new Map<string, number>();
  /** Only connections in `verifiers` are counted, so this is bounded by the known connections. */
  private refusals = new Map<string, RefusalTally>();
  private readonly lookups = new Map<string, Promise<CachedVerifier | undefined>>();
  private readonly arrivals = new Map<
    string,
    { promise: Promise<CachedVerifier | undefined>; settle: (verifier: CachedVerifier | undefined) => void }
  >();
  private readonly keyFetches = new Map<
    string,
    { verifier: CachedVerifier; key: Promise<Buffer | undefined> }
  >();
  private watcher?: QueuedIterator<KvEntry>;
  private watchGeneration = 0;
  private stopped = false;
  private initialized = false;

  constructor(
    private readonly nats: NatsClient,
    private readonly settings: VerifierStoreSettings,
    private readonly logger: Logger,
    private readonly snapshot?: VerifierSnapshot,
  ) {}

  /** Watches the bucket, and meanwhile loads the saved snapshot (unless the bucket comes first). */
  start(): void {
    void this.restore();
    // On the first connect and on every reconnect: the server may have lost the watch consumer.
    this.nats.onConnected(() => void this.watch());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    for (const { settle } of [...this.arrivals.values()]) settle(undefined);
    await this.snapshot?.flush();
  }

  private async restore(): Promise<void> {
    if (!this.snapshot) return;
    try {
      const saved = await this.snapshot.load();
      // The bucket, once loaded, knows better (and has dropped what was deleted meanwhile).
      if (this.initialized || this.stopped) return;
      let restored = 0;
      for (const { connectionId, entry } of saved) {
        const verifier = toCachedVerifier(entry);
        if (!verifier || verifier.connectionId !== connectionId || this.verifiers.has(connectionId)) continue;
        this.verifiers.set(connectionId, verifier);
        restored += 1;
      }
      this.logger.info({ verifiers: restored }, 'webhook verifiers restored from the database');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not load the webhook verifier snapshot; waiting for NATS');
    }
  }

  /** Whether the initial values of the bucket have been loaded since the last (re)connect. */
  get ready(): boolean {
    return this.initialized;
  }

  get size(): number {
    return this.verifiers.size;
  }

  /** The verifier of a connection: from memory when known (synchronously), else one lookup. */
  find(connectionId: string): CachedVerifier | undefined | Promise<CachedVerifier | undefined> {
    const cached = this.verifiers.get(connectionId);
    if (cached) return cached;
    const until = this.unknownUntil.get(connectionId);
    if (until !== undefined) {
      if (until > Date.now()) return undefined;
      this.unknownUntil.delete(connectionId);
    }
    return this.lookup(connectionId);
  }

  /**
   * Counts a refused delivery (wrong token or signature) of a connection this store holds as active:
   * GitLab may hold another secret than ours. Unknown ids are never counted.
   */
  recordRefusal(verifier: CachedVerifier): void {
    if (!verifier.active || this.verifiers.get(verifier.connectionId) !== verifier) return;
    const now = Date.now();
    const tally = this.refusals.get(verifier.connectionId);
    if (tally) {
      tally.count += 1;
      tally.lastRefusedAt = now;
    } else {
      this.refusals.set(verifier.connectionId, { count: 1, firstRefusedAt: now, lastRefusedAt: now });
    }
  }

  /** The refusals counted since the last call (for `integration.webhook.deliveries_refused`). */
  takeRefusals(): Map<string, RefusalTally> {
    const taken = this.refusals;
    this.refusals = new Map();
    return taken;
  }

  /** Gives back refusals that could not be reported, to be added to the next report. */
  returnRefusals(connectionId: string, tally: RefusalTally): void {
    if (!this.verifiers.has(connectionId)) return;
    const current = this.refusals.get(connectionId);
    if (!current) {
      this.refusals.set(connectionId, tally);
      return;
    }
    current.count += tally.count;
    current.firstRefusedAt = Math.min(current.firstRefusedAt, tally.firstRefusedAt);
    current.lastRefusedAt = Math.max(current.lastRefusedAt, tally.lastRefusedAt);
  }

  /**
   * The HMAC key of a signed hook; asks connection-service when it is not in memory. connection-service
   * announces a signed hook only once its key is committed, so an answer to a question asked after
   * this verifier arrived carries that key (or a newer one) and is kept with this verifier.
   */
  signingKey(verifier: CachedVerifier): Promise<Buffer | undefined> {
    if (verifier.signingKey) return Promise.resolve(verifier.signingKey);
    const { connectionId } = verifier;
    const running = this.keyFetches.get(connectionId);
    if (running?.verifier === verifier) return running.key;
    const key = this.fetchSigningKey(verifier).finally(() => {
      if (this.keyFetches.get(connectionId)?.key === key) this.keyFetches.delete(connectionId);
    });
    this.keyFetches.set(connectionId, { verifier, key });
    return key;
  }

  private async fetchSigningKey(verifier: CachedVerifier): Promise<Buffer | undefined> {
    const reply = await this.ask(verifier.connectionId);
    const key =
      reply?.ok && typeof reply.signingKey === 'string' ? signingKeyOf(reply.signingKey) : undefined;
    if (key && verifier.signed && this.verifiers.get(verifier.connectionId) === verifier)
      verifier.signingKey = key;
    return key;
  }

  private lookup(connectionId: string): Promise<CachedVerifier | undefined> {
    const running = this.lookups.get(connectionId);
    if (running) return running;
    if (this.lookups.size >= MAX_CONCURRENT_LOOKUPS) return this.arrival(connectionId);
    const lookup = this.request(connectionId).finally(() => this.lookups.delete(connectionId));
    this.lookups.set(connectionId, lookup);
    return lookup;
  }

  /** Resolves when the watch delivers the connection's entry, or with undefined after the lookup timeout. */
  private arrival(connectionId: string): Promise<CachedVerifier | undefined> {
    const waiting = this.arrivals.get(connectionId);
    if (waiting) return waiting.promise;
    if (this.stopped || !this.nats.isConnected || this.arrivals.size >= MAX_WAITING_FOR_WATCH) {
      return Promise.resolve(undefined);
    }
    let settle!: (verifier: CachedVerifier | undefined) => void;
    const promise = new Promise<CachedVerifier | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), this.settings.lookupTimeoutMs);
      settle = (verifier) => {
        clearTimeout(timer);
        if (this.arrivals.get(connectionId)?.promise === promise) this.arrivals.delete(connectionId);
        resolve(verifier);
      };
    });
    this.arrivals.set(connectionId, { promise, settle });
    return promise;
  }

  /** One rpc.connection.webhook_verifier request; undefined when NATS or connection-service cannot answer. */
  private async ask(connectionId: string): Promise<WebhookVerifierReply | undefined> {
    if (!this.nats.isConnected) return undefined;
    try {
      const request: WebhookVerifierRequest = { connectionId };
      const message = await this.nats.nc.request(
        this.nats.naming.subject(RPC.webhookVerifier),
        JSON.stringify(request),
        { timeout: this.settings.lookupTimeoutMs },
      );
      return JSON.parse(Buffer.from(message.data).toString('utf8')) as WebhookVerifierReply;
    } catch (error) {
      this.logger.warn({ err: error, connectionId }, 'webhook verifier lookup failed');
      return undefined;
    }
  }

  private async request(connectionId: string): Promise<CachedVerifier | undefined> {
    if (!this.nats.isConnected) return undefined;
    const reply = await this.ask(connectionId);
    if (!reply) {
      this.rememberUnknown(connectionId);
      return undefined;
    }
    if (!reply.ok) {
      this.rememberUnknown(connectionId);
      return undefined;
    }
    const verifier = toCachedVerifier(reply.verifier);
    if (!verifier || verifier.connectionId !== connectionId) {
      this.logger.warn({ connectionId }, 'webhook verifier lookup returned an invalid verifier');
      this.rememberUnknown(connectionId);
      return undefined;
    }
    const current = this.verifiers.get(connectionId);
    // The bucket is the source of truth: an entry it delivered meanwhile wins unless this one is newer.
    if (current && current.updatedAt > verifier.updatedAt) return current;
    const key = typeof reply.signingKey === 'string' ? signingKeyOf(reply.signingKey) : undefined;
    if (key && verifier.signed) verifier.signingKey = key;
    this.verifiers.set(connectionId, verifier);
    return verifier;
  }

  private rememberUnknown(connectionId: string): void {
    if (this.settings.unknownTtlMs <= 0) return;
    if (this.unknownUntil.size >= MAX_REMEMBERED_UNKNOWN) this.unknownUntil.clear();
    this.unknownUntil.set(connectionId, Date.now() + this.settings.unknownTtlMs);
  }

  private apply(entry: KvEntry): void {
    if (entry.operation !== 'PUT') {
      this.verifiers.delete(entry.key);
      this.refusals.delete(entry.key);
      this.snapshot?.remove(entry.key);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(entry.value).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const verifier = toCachedVerifier(parsed);
    if (!verifier || verifier.connectionId !== entry.key) {
      // Fail closed: a value the gateway cannot read authenticates nothing.
      this.verifiers.delete(entry.key);
      this.snapshot?.remove(entry.key);
      this.logger.warn({ key: entry.key }, 'ignoring an invalid webhook verifier entry');
      return;
    }
    const previous = this.verifiers.get(entry.key);
    // A signed hook keeps its key only while the entry is unchanged (a change may be a new key).
    if (previous?.signingKey && verifier.signed && previous.updatedAt === verifier.updatedAt) {
      verifier.signingKey = previous.signingKey;
    }
    // A rotation: the key GitLab signed with before it stays accepted with the previous secret.
    if (previous && verifier.previousSecretHash) {
      if (previous.signingKey && previous.secretHash.equals(verifier.previousSecretHash)) {
        verifier.previousSigningKey = previous.signingKey;
      } else if (previous.previousSecretHash?.equals(verifier.previousSecretHash)) {
        verifier.previousSigningKey = previous.previousSigningKey;
      }
    }
    this.verifiers.set(entry.key, verifier);
    this.unknownUntil.delete(entry.key);
    this.arrivals.get(entry.key)?.settle(verifier);
    if (previous?.updatedAt !== verifier.updatedAt) this.snapshot?.save(entry.key, parsed);
  }

  private async openBucket(): Promise<KV> {
    const name = this.nats.naming.bucket(KV_BUCKETS.webhookVerifiers);
    const exists = await this.nats.jsm.streams.info(`KV_${name}`).then(
      () => true,
      () => false,
    );
    if (!exists && this.nats.jetstreamSettings.manage) {
      // connection-service normally creates it; whoever comes first creates it with the settings.
      try {
        return await this.nats.js.views.kv(name, kvOptionsOf(this.nats.jetstreamSettings));
      } catch {
        // created meanwhile with another configuration: bind to it
      }
    }
    return this.nats.js.views.kv(name, { bindOnly: true });
  }

  private async watch(): Promise<void> {
    this.watchGeneration += 1;
    const generation = this.watchGeneration;
    this.watcher?.stop();
    this.initialized = false;
    for (let attempt = 0; !this.stopped && generation === this.watchGeneration; attempt += 1) {
      try {
        const kv = await this.openBucket();
        const seen = new Set<string>();
        let loading = true;
        const watcher = await kv.watch({
          initializedFn: () => {
            loading = false;
            // Entries deleted while the gateway was not watching.
            for (const key of [...this.verifiers.keys()]) {
              if (seen.has(key)) continue;
              this.verifiers.delete(key);
              this.snapshot?.remove(key);
            }
            this.initialized = true;
            this.logger.info({ verifiers: this.verifiers.size }, 'webhook verifiers loaded');
          },
        });
        if (generation !== this.watchGeneration) {
          watcher.stop();
          return;
        }
        this.watcher = watcher;
        for await (const entry of watcher) {
          if (loading) seen.add(entry.key);
          this.apply(entry);
        }
        if (this.stopped || generation !== this.watchGeneration) return;
        this.logger.warn('the webhook verifier watch ended; watching again');
      } catch (error) {
        if (this.stopped || generation !== this.watchGeneration) return;
        this.logger.warn({ err: error, attempt }, 'watching the webhook verifiers failed; retrying');
        await sleep(jitteredBackoff(attempt, 250, 5_000, 100));
      }
    }
  }
}
