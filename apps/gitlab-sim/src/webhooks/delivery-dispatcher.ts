import { Pool } from 'undici';

/** What GitLab keeps of a receiver's answer (WebHookService: 8 KB of body, 50 headers of 1 KB). */
const MAX_RESPONSE_BODY = 8 * 1024;
const MAX_RESPONSE_HEADERS = 50;
const MAX_HEADER_VALUE = 1024;

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  verifyTls: boolean;
  timeoutMs: number;
}

export interface DeliveryResult {
  /** HTTP status, or null when no response came (timeout, refused, reset). */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  error: string | null;
  /** High-resolution epoch milliseconds of the moment the request was handed to the socket pool. */
  sentAt: number;
  durationMs: number;
}

interface Job {
  request: DeliveryRequest;
  resolve: (result: DeliveryResult) => void;
}

const highResNow = (): number => performance.timeOrigin + performance.now();

/**
 * Sends webhook requests with bounded concurrency over one keep-alive pool per receiver origin.
 * No retries, like GitLab: one attempt, a 10 s timeout, and whatever happened is the result.
 */
export class DeliveryDispatcher {
  private readonly pools = new Map<string, Pool>();
  private readonly queue: Job[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  get pending(): number {
    return this.queue.length - this.queueHead + this.inFlight;
  }

  send(request: DeliveryRequest): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      if (this.closed) {
        const now = highResNow();
        resolve({
          status: null,
          headers: {},
          body: '',
          error: 'simulator is shutting down',
          sentAt: now,
          durationMs: 0,
        });
        return;
      }
      this.queue.push({ request, resolve });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead];
      this.queueHead += 1;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.inFlight += 1;
      void this.execute(job.request).then((result) => {
        this.inFlight -= 1;
        job.resolve(result);
        this.pump();
        if (this.pending === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
      });
    }
  }

  private poolFor(url: URL, verifyTls: boolean): Pool {
    const key = `${url.origin}|${verifyTls}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: this.concurrency,
        pipelining: 1,
        keepAliveTimeout: 4_000,
        connect: url.protocol === 'https:' ? { rejectUnauthorized: verifyTls } : undefined,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async execute(request: DeliveryRequest): Promise<DeliveryResult> {
    const sentAt = highResNow();
    const started = performance.now();
    const finish = (partial: Omit<DeliveryResult, 'sentAt' | 'durationMs'>): DeliveryResult => ({
      ...partial,
      sentAt,
      durationMs: performance.now() - started,
    });
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return finish({ status: null, headers: {}, body: '', error: 'Invalid URL' });
    }
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      const response = await this.poolFor(url, request.verifyTls).request({
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
        signal,
      });
      const text = await readLimited(response.body, MAX_RESPONSE_BODY);
      return finish({
        status: response.statusCode,
        headers: keepHeaders(response.headers),
        body: text,
        error: null,
      });
    } catch (error) {
      const message = signal.aborted
        ? 'execution expired'
        : error instanceof Error
          ? error.message
          : String(error);
      return finish({ status: null, headers: {}, body: message, error: message });
    }
  }
}

async function readLimited(
  body: AsyncIterable<Buffer> & { dump?: () => Promise<void> },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

function keepHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || count >= MAX_RESPONSE_HEADERS) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    kept[name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase())] =
      text.slice(0, MAX_HEADER_VALUE);
    count += 1;
  }
  return kept;
}
