/**
 * Benchmark reference (c): the naive design the issue measures against — a Fastify route that
 * awaits one `js.publish` per delivery (no token check, no spool). Run as its own process with
 * NATS_URL and NATS_PREFIX; prints `{"port":…}` when listening.
 */
import Fastify from 'fastify';
import { connect, headers as natsHeaders } from 'nats';

async function main(): Promise<void> {
  const prefix = process.env['NATS_PREFIX'] ?? '';
  const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  const js = nc.jetstream();
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 25 * 1024 * 1024 },
    (_r, body, done) => done(null, body),
  );
  app.post<{ Params: { connectionId: string }; Body: Buffer }>(
    '/webhooks/gitlab/:connectionId',
    async (request, reply) => {
      const headers = natsHeaders();
      for (const name of ['x-gitlab-event', 'idempotency-key', 'user-agent']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers.set(name, value);
      }
      const id = request.headers['idempotency-key'];
      await js.publish(`${prefix}.gitlab.events.${request.params.connectionId}.issue`, request.body, {
        msgID: typeof id === 'string' ? id : undefined,
        headers,
      });
      return reply.code(202).send({ status: 'published' });
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
  process.once(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => nc.drain())
        .then(() => process.exit(0)),
  );
}

void main();
