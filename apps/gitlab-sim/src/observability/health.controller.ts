import type { FastifyInstance } from 'fastify';

import type { Simulator } from '../simulator';

/** `GET /health/live`, `GET /health/ready` (once seeded and listening) and `GET /metrics`. */
export function registerHealthRoutes(app: FastifyInstance, sim: Simulator, isReady: () => boolean): void {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], summary: 'Seeded and listening' } },
    async (_request, reply) => {
      if (!isReady()) return reply.code(503).send({ status: 'starting' });
      return { status: 'ok', projects: sim.store.projects.size, issues: sim.store.issues.size };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      reply.type(sim.metrics.registry.contentType);
      return sim.metrics.registry.metrics();
    },
  );
}
