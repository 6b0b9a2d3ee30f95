import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Stands in for the webhook gateway where a test needs to see exactly what GitLab sends (the
 * `X-Gitlab-Token` included) or to make deliveries fail.
 */
export class HookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  /** What the next deliveries are answered with. */
  status = 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HookReceiver> {
    const holder: { receiver?: HookReceiver } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        holder.receiver?.deliveries.push({
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.writeHead(holder.receiver?.status ?? 200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.receiver = new HookReceiver(server, `http://127.0.0.1:${port}`);
    return holder.receiver;
  }

  forConnection(connectionId: string): ReceivedDelivery[] {
    return this.deliveries.filter((delivery) => delivery.path === `/webhooks/gitlab/${connectionId}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A server that answers every request with a redirect to `location`. */
export async function startRedirector(
  location: string,
): Promise<{ url: string; hits: () => number; stop: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits += 1;
    response.writeHead(302, { location });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Announces a request body of `declaredBytes` (Content-Length) and sends only the headers, then
 * reads the answer: how a server that refuses an oversized body before reading it behaves. (Sending
 * the 10 MB for real makes the server's early close reset the socket, and the answer is lost.)
 */
export function announceBody(
  url: string,
  method: string,
  headers: Record<string, string>,
  declaredBytes: number,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(target.port), target.hostname);
    let text = '';
    const finish = () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const separator = text.indexOf('\r\n\r\n');
      resolve({ status, body: separator === -1 ? '' : text.slice(separator + 4) });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const separator = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? -1);
      if (separator !== -1 && length >= 0 && Buffer.byteLength(text.slice(separator + 4)) >= length) finish();
    });
    socket.on('error', reject);
    socket.on('close', finish);
    socket.write(
      [
        `${method} ${target.pathname}${target.search} HTTP/1.1`,
        `host: ${target.host}`,
        `content-length: ${declaredBytes}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        '',
        '',
      ].join('\r\n'),
    );
  });
}
