import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { connect, headers as natsHeaders, type NatsConnection } from 'nats';

import { gitlabEventSubject, type GitlabEventKind } from '@testkase/contracts';

/**
 * A minimal stand-in for webhook-gateway in requirement-sync's own integration tests: takes the
 * simulator's deliveries on `/hooks/:connectionId` and publishes the raw body to
 * `gitlab.events.<connectionId>.<kind>` with the Idempotency-Key as Nats-Msg-Id, as the gateway does.
 * (No secret check: the end-to-end specs run the real gateway.)
 */
export class WebhookRelay {
  published = 0;

  private constructor(
    private readonly server: Server,
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  static async start(natsUrl: string, prefix: string): Promise<WebhookRelay> {
    const nc = await connect({ servers: natsUrl, name: 'webhook-relay' });
    const server = createServer();
    const relay = new WebhookRelay(server, nc, prefix);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void relay.handle(request).then(
        (status) => response.writeHead(status).end(),
        () => response.writeHead(503).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  hookUrl(connectionId: string): string {
    return `${this.url}/hooks/${connectionId}`;
  }

  private async handle(request: IncomingMessage): Promise<number> {
    const connectionId = /^\/hooks\/([0-9a-f-]{36})$/.exec(request.url ?? '')?.[1];
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (!connectionId) return 404;
    const body = Buffer.concat(chunks);
    const event = String(request.headers['x-gitlab-event'] ?? '');
    let kind: GitlabEventKind;
    if (/note hook/i.test(event)) kind = 'note';
    else {
      const parsed = JSON.parse(body.toString('utf8')) as { object_kind?: string };
      kind = parsed.object_kind === 'work_item' ? 'work_item' : 'issue';
    }
    const msgId = String(request.headers['idempotency-key'] ?? request.headers['x-gitlab-event-uuid'] ?? '');
    const headers = natsHeaders();
    headers.set('x-gitlab-event', event);
    await this.nc.jetstream().publish(`${this.prefix}.${gitlabEventSubject(connectionId, kind)}`, body, {
      msgID: msgId || undefined,
      headers,
    });
    this.published += 1;
    return 200;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    await this.nc.close();
  }
}
