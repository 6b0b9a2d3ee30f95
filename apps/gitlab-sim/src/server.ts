import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import pino, { type Logger } from 'pino';

import { apiPlugin } from './api/api.plugin';
import { recordApiRequest } from './api/request-recording';
import type { SimConfig } from './config/sim.config';
import { controlPlugin } from './control/control.plugin';
import { FaultResponder } from './control/fault-responder';
import { GitlabError, statusMessageBody } from './domain/gitlab-error';
import { registerHealthRoutes } from './observability/health.controller';
import { Simulator } from './simulator';
import type { AdjustableClock } from './store/clock';

export interface SimServerOptions {
  logger?: Logger;
  clock?: AdjustableClock;
}

export interface SimServer {
  readonly app: FastifyInstance;
  readonly sim: Simulator;
  /** Base URL once listening (also what web_url, Link headers and X-Gitlab-Instance use by default). */
  readonly url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** `a=1&a=2&b[]=x` → `{ a: ['1','2'], 'b[]': ['x'] }` (Grape reads form bodies like query strings). */
function parseForm(text: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = result[key];
    if (existing === undefined) result[key] = key.endsWith('[]') ? [value] : value;
    else result[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return result;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'gitlab-sim' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["private-token"]', '*.token', '*.signingToken'],
      censor: '[REDACTED]',
    },
  });
}

/**
 * Builds a simulator server (not yet listening). Tests start it in-process on port 0; main.ts
 * starts it as a process.
 */
export async function createSimServer(config: SimConfig, options: SimServerOptions = {}): Promise<SimServer> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const sim = new Simulator(config, { logger, clock: options.clock });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 32 * 1024 * 1024,
    routerOptions: { maxParamLength: 2_000 },
    forceCloseConnections: true,
  });
  const faults = new FaultResponder(sim.faults, sim.metrics);
  let ready = false;

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(body));
    } catch {
      done(GitlabError.badRequest('The request body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, text, done) => done(null, parseForm(String(text))),
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => done(null, String(text)));

  app.setErrorHandler((error: FastifyError | GitlabError, request, reply) => {
    if (error instanceof GitlabError) {
      reply.code(error.status).headers(error.headers);
      if (typeof error.body === 'string') return reply.type('text/plain').send(error.body);
      return reply.type('application/json').send(error.body);
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, route: request.routeOptions.url }, 'unhandled error');
      return reply.code(500).send(statusMessageBody(500));
    }
    return reply.code(status).send(status === 400 ? { error: error.message } : statusMessageBody(status));
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(GitlabError.routeNotFound().body));

  app.decorateRequest('afterFault', null);

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (
      path.startsWith('/__sim') ||
      path.startsWith('/health/') ||
      path === '/metrics' ||
      path.startsWith('/docs')
    )
      return undefined;
    // Recorded before any fault strikes, so that faulted requests show up in the log too.
    if (path === '/api/v4' || path.startsWith('/api/v4/')) recordApiRequest(sim, request, reply, path);
    return faults.beforeRoute(request, reply, path);
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.afterFault) return done(null, payload);
    faults.afterRoute(request, reply, payload).then(
      (replaced) => done(null, replaced),
      (error: Error) => done(error),
    );
  });

  app.addHook('onResponse', async (request, reply) => {
    sim.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'GitLab simulator',
        description: 'A faithful GitLab REST v4 and webhook simulator (/api/v4) with a control API (/__sim).',
        version: config.GITLAB_SIM_VERSION,
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(apiPlugin, { prefix: '/api/v4', sim });
  await app.register(controlPlugin, { prefix: '/__sim', sim });
  registerHealthRoutes(app, sim, () => ready);

  if (config.GITLAB_SIM_SEED_DEMO) sim.seeder.seedDemo();

  let url = sim.urls.baseUrl;
  return {
    app,
    sim,
    get url() {
      return url;
    },
    async listen() {
      await app.listen({ port: config.PORT, host: config.HOST });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      if (!config.GITLAB_SIM_EXTERNAL_URL) sim.urls.setBaseUrl(url);
      ready = true;
      // Whoever started the process finds the port in this line, so it is written at LOG_LEVEL=warn too.
      const lifecycle = logger.level === 'silent' ? logger : logger.child({}, { level: 'info' });
      lifecycle.info(
        { url, port, externalUrl: sim.urls.baseUrl, version: config.GITLAB_SIM_VERSION },
        'listening',
      );
      return url;
    },
    async close() {
      ready = false;
      faults.releaseHeld();
      await app.close();
      await sim.dispatcher.close();
    },
  };
}
