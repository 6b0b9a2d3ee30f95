import Fastify, { type FastifyInstance } from 'fastify';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  rawBody: string;
  body: Record<string, unknown>;
  receivedAt: number;
  path: string;
}

/**
 * A local HTTP receiver standing in for an integration's webhook endpoint. Answers `status`
 * (a number or a function of the request count) and records every request with its raw body.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status: number | ((count: number) => number) = 200;
  /** Delay before answering (to exercise the delivery timeout). */
  delayMs = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  /** Where to point a hook (set once listening). */
  url = '';

  private constructor(private readonly app: FastifyInstance) {}

  static async start(): Promise<WebhookReceiver> {
    const app = Fastify({ logger: false });
    const receiver = new WebhookReceiver(app);
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    app.post('/*', async (request, reply) => {
      const rawBody = String(request.body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (typeof value === 'string') headers[name] = value;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        // custom templates may send other text
      }
      receiver.received.push({ headers, rawBody, body, receivedAt: Date.now(), path: request.url });
      receiver.notify();
      if (receiver.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, receiver.delayMs));
      const status =
        typeof receiver.status === 'function' ? receiver.status(receiver.received.length) : receiver.status;
      if (status >= 300 && status < 400) reply.header('location', 'http://127.0.0.1:9/elsewhere');
      return reply.code(status).send({ ok: status < 400 });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    receiver.url = `${address}/hook`;
    return receiver;
  }

  private notify(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (this.received.length >= waiter.count) waiter.resolve();
      return this.received.length < waiter.count;
    });
  }

  /** Resolves once at least `count` requests arrived. */
  waitFor(count: number, timeoutMs = 5_000): Promise<ReceivedWebhook[]> {
    if (this.received.length >= count) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} webhooks, got ${this.received.length}`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.received);
        },
      });
    });
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): Promise<void> {
    this.delayMs = 0;
    return this.app.close();
  }
}
