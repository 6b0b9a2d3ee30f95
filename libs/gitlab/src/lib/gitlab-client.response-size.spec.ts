import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { appErrorFrom, clientFor, closeClients } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** What the streaming server saw of one response: how much it wrote, and whether it got to the end. */
interface Transfer {
  bytesWritten: number;
  finished: boolean;
  closedEarly: Promise<boolean>;
}

/**
 * A loopback server that streams `totalBytes` of a JSON string as the answer to any request, in
 * 64 KiB chunks, waiting for the socket to drain between them (so it can only run ahead of the
 * client by the socket buffers), with or without a Content-Length.
 */
async function streamingServer(
  totalBytes: number,
  declareLength: boolean,
): Promise<{ server: Server; baseUrl: string; transfers: Transfer[] }> {
  const transfers: Transfer[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    let resolveClosed!: (early: boolean) => void;
    const transfer: Transfer = {
      bytesWritten: 0,
      finished: false,
      closedEarly: new Promise((resolve) => (resolveClosed = resolve)),
    };
    transfers.push(transfer);
    res.on('close', () => resolveClosed(!transfer.finished));
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(declareLength ? { 'content-length': String(totalBytes) } : {}),
    });
    const pump = (): void => {
      while (!res.destroyed && transfer.bytesWritten < totalBytes) {
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, totalBytes - transfer.bytesWritten));
        transfer.bytesWritten += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) {
        transfer.finished = true;
        res.end();
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}`, transfers };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('GitlabClient response size cap', () => {
  afterEach(() => closeClients());

  it('aborts a chunked response as soon as it crosses the cap (GITLAB_RESPONSE_TOO_LARGE, not retried)', async () => {
    const { server, baseUrl, transfers } = await streamingServer(200 * MiB, false);
    try {
      const client = clientFor({ baseUrl }, { maxResponseBytes: 1 * MiB });

      const error = await appErrorFrom(client.users.current());

      expect(error.code).toBe('GITLAB_RESPONSE_TOO_LARGE');
      expect(error.transient).toBe(false);
      expect(error.details).toMatchObject({ maxBytes: MiB, method: 'GET', path: 'user', attempts: 1 });
      expect(transfers).toHaveLength(1);
      // The server saw the socket closed long before it had written the 200 MiB.
      await expect(transfers[0]!.closedEarly).resolves.toBe(true);
      expect(transfers[0]!.bytesWritten).toBeLessThan(32 * MiB);
    } finally {
      await stop(server);
    }
  });

  it('refuses a Content-Length above the cap before reading the body', async () => {
    const { server, baseUrl, transfers } = await streamingServer(200 * MiB, true);
    try {
      const client = clientFor({ baseUrl }, { maxResponseBytes: 1 * MiB });

      const error = await appErrorFrom(client.issues.get(1, 1));

      expect(error.code).toBe('GITLAB_RESPONSE_TOO_LARGE');
      expect(error.details).toMatchObject({ contentLength: 200 * MiB, attempts: 1 });
      expect(transfers).toHaveLength(1);
      await expect(transfers[0]!.closedEarly).resolves.toBe(true);
      expect(transfers[0]!.bytesWritten).toBeLessThan(32 * MiB);
    } finally {
      await stop(server);
    }
  });

  it('reads a response below the cap, and defaults the cap to 20 MiB', async () => {
    const fake = await FakeGitlab.start();
    try {
      fake.on('GET', '/api/v4/user', { json: { id: 7, username: 'x'.repeat(512 * 1024) } });
      const small = clientFor(fake, { maxResponseBytes: 1 * MiB });
      await expect(small.users.current()).resolves.toMatchObject({ id: 7 });

      const big = { json: { id: 8, username: 'y'.repeat(21 * MiB) } };
      fake.on('GET', '/api/v4/user', big);
      const error = await appErrorFrom(clientFor(fake).users.current());
      expect(error.code).toBe('GITLAB_RESPONSE_TOO_LARGE');
      expect(error.details).toMatchObject({ maxBytes: 20 * MiB });
    } finally {
      await fake.close();
    }
  });
});
