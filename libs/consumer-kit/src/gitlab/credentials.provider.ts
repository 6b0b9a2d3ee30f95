import { JSONCodec } from 'nats';

import { RPC, type ConnectionCredentials, type CredentialsReply } from '@testkase/contracts';
import type { NatsClient } from '@testkase/platform';
import { AppError, BoundedLru, ENTRY_OVERHEAD_BYTES, stringBytes, TransientError } from '@testkase/util';

const codec = JSONCodec<unknown>();

/**
 * Bounds of the credentials kept (docs/RUNBOOK.md, "Memory"): one entry per connection served lately,
 * a few hundred bytes each (a CA certificate makes it a few KiB). Past them the least recently used
 * are fetched again when next needed.
 */
export const CREDENTIALS_CACHE_BOUNDS = { maxEntries: 10_000, maxBytes: 8 * 1024 * 1024 } as const;

/**
 * Fetches a connection's credentials from connection-service over NATS request/reply
 * (`rpc.connection.credentials`) and keeps them in memory for a short while; concurrent callers
 * share one request. The token is never logged, stored or put in an error.
 */
export class CredentialsProvider {
  private readonly cache: BoundedLru<string, { credentials: ConnectionCredentials; expiresAt: number }>;
  private readonly inFlight = new Map<string, Promise<ConnectionCredentials>>();

  constructor(
    private readonly nats: NatsClient,
    private readonly settings: {
      readonly ttlMs: number;
      readonly timeoutMs: number;
      /** Default {@link CREDENTIALS_CACHE_BOUNDS}. */
      readonly bounds?: { readonly maxEntries: number; readonly maxBytes: number };
    },
  ) {
    this.cache = new BoundedLru({
      ...(settings.bounds ?? CREDENTIALS_CACHE_BOUNDS),
      sizeOf: (connectionId, entry) =>
        stringBytes(connectionId) + stringBytes(JSON.stringify(entry.credentials)) + ENTRY_OVERHEAD_BYTES,
    });
  }

  /**
   * @throws AppError NOT_CONNECTED (connection-service knows no such active connection; permanent)
   * @throws TransientError when connection-service does not answer
   */
  async get(connectionId: string): Promise<ConnectionCredentials> {
    const cached = this.cache.get(connectionId);
    if (cached && cached.expiresAt > Date.now()) return cached.credentials;
    if (cached) this.cache.delete(connectionId);
    let pending = this.inFlight.get(connectionId);
    if (!pending) {
      pending = this.fetch(connectionId).finally(() => this.inFlight.delete(connectionId));
      this.inFlight.set(connectionId, pending);
    }
    return pending;
  }

  /** Connections whose credentials are kept (tests). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /** Forgets the credentials (GitLab refused the token, or the connection changed). */
  forget(connectionId: string): void {
    this.cache.delete(connectionId);
  }

  private async fetch(connectionId: string): Promise<ConnectionCredentials> {
    let reply: unknown;
    try {
      const message = await this.nats.nc.request(
        this.nats.naming.subject(RPC.connectionCredentials),
        codec.encode({ connectionId }),
        { timeout: this.settings.timeoutMs },
      );
      reply = codec.decode(message.data);
    } catch (error) {
      throw new TransientError('connection-service did not answer the credentials request', {
        details: { connectionId, cause: (error as Error).message },
      });
    }
    const answer = reply as CredentialsReply;
    if (typeof answer !== 'object' || answer === null || typeof answer.ok !== 'boolean') {
      throw new TransientError('connection-service sent a malformed credentials reply', {
        details: { connectionId },
      });
    }
    if (!answer.ok) {
      const code = answer.error?.code;
      if (code === 'NOT_CONNECTED' || code === 'NOT_FOUND') {
        throw new AppError('NOT_CONNECTED', 'connection-service knows no active connection with this id', {
          details: { connectionId },
        });
      }
      throw new TransientError(`connection-service refused the credentials request (${code ?? 'no code'})`, {
        details: { connectionId },
      });
    }
    const credentials = answer.credentials;
    if (this.settings.ttlMs > 0) {
      this.cache.set(connectionId, { credentials, expiresAt: Date.now() + this.settings.ttlMs });
    }
    return credentials;
  }
}
