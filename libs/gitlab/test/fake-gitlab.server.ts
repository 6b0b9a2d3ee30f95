import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A request as the fake GitLab received it. `at` is Date.now() on arrival. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly at: number;
}

export interface FakeReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as text/plain unless headers say otherwise. */
  readonly text?: string;
  /** Never answer (for timeouts). */
  readonly hang?: boolean;
}

type Responder = FakeReply | ((request: RecordedRequest, base: string) => FakeReply);

interface Route {
  readonly method: string;
  readonly path: string | RegExp;
  readonly replies: Responder[];
}

/**
 * A local HTTP(S) server that answers like GitLab's REST API: routes hold a sequence of replies,
 * consumed in order, the last one repeating. Every request is recorded.
 */
export class FakeGitlab {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(tls?: { key: string; cert: string }): Promise<FakeGitlab> {
    const started: { fake?: FakeGitlab } = {};
    const listener = (req: IncomingMessage, res: ServerResponse): void => void started.fake?.handle(req, res);
    const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    started.fake = new FakeGitlab(server, `${tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    return started.fake;
  }

  /** Replies for `method path` (path below the host, e.g. `/api/v4/user`). */
  on(method: string, path: string | RegExp, ...replies: Responder[]): this {
    this.routes.unshift({ method, path, replies });
    return this;
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    };
    this.requests.push(request);
    const route = this.routes.find(
      (r) =>
        r.method === request.method &&
        (typeof r.path === 'string' ? r.path === request.path : r.path.test(request.path)),
    );
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"404 Not Found"}');
      return;
    }
    const responder = (route.replies.length > 1 ? route.replies.shift() : undefined) ?? route.replies[0];
    const reply = typeof responder === 'function' ? responder(request, this.baseUrl) : responder;
    if (reply.hang) return;
    const headers: Record<string, string> = { ...reply.headers };
    let payload = reply.text ?? '';
    if (reply.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(reply.json);
    } else if (reply.text !== undefined) {
      headers['content-type'] ??= 'text/plain';
    }
    res.writeHead(reply.status ?? 200, headers).end(payload);
  }
}
