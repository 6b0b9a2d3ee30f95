import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

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
import type { SimConfig } from './config/sim.config';
import { controlPlugin } from './control/control.plugin';
import { GitlabError } from './domain/gitlab-error';
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

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const messageBody = (status: number): { message: string } => ({
  message: `${status} ${STATUS_TEXT[status] ?? 'Error'}`,
});

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
  const heldSockets = new Set<Socket>();
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
      return reply.code(500).send(messageBody(500));
    }
    return reply.code(status).send(status === 400 ? { error: error.message } : messageBody(status));
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(GitlabError.routeNotFound().body));

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (
      path.startsWith('/__sim') ||
      path.startsWith('/health/') ||
      path === '/metrics' ||
      path.startsWith('/docs')
    )
      return;
    const fault = sim.faults.match(request.method, path);
    if (!fault) return;
    sim.metrics.faultsInjected.inc({ kind: fault.kind });
    switch (fault.kind) {
      case 'latency':
        await sleep(fault.latencyMs ?? 1_000);
        return;
      case 'status': {
        const status = fault.status ?? 500;
        reply.code(status);
        if (typeof fault.body === 'string') return reply.type('text/plain').send(fault.body);
        return reply.type('application/json').send(fault.body ?? messageBody(status));
      }
      case 'rate_limit': {
        reply.code(429).header('Retry-After', String(fault.retryAfter ?? 60));
        if (fault.body !== undefined && typeof fault.body !== 'string')
          return reply.type('application/json').send(fault.body);
        return reply.type('text/plain').send(typeof fault.body === 'string' ? fault.body : 'Retry later\n');
      }
      case 'timeout': {
        // Never answer: the client's own timeout is what ends it (or shutdown).
        reply.hijack();
        const socket = request.raw.socket;
        heldSockets.add(socket);
        socket.once('close', () => heldSockets.delete(socket));
        return;
      }
      case 'drop':
        reply.hijack();
        request.raw.socket.destroy();
        return;
    }
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
      for (const socket of heldSockets) socket.destroy();
      await app.close();
      await sim.dispatcher.close();
    },
  };
}
