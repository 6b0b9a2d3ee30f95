/**
 * Benchmark baseline (a): a bare Fastify route that parses the JSON body and answers 200. Run as
 * its own process (`node dist/bench/lib/bare-fastify.server.js`); prints `{"port":…}` when listening.
 */
import Fastify from 'fastify';

async function main(): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: 25 * 1024 * 1024 });
  app.post('/webhooks/gitlab/:connectionId', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send();
    return reply.code(200).send({ status: 'ok' });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
