import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { HttpErrorFilter } from '../errors/http-error.filter';
import { createValidationPipe } from '../errors/validation.pipe';
import { GrpcHealth } from '../grpc/grpc-health';
import { PROTO_LOADER_OPTIONS } from '../grpc/proto-mapper';
import { tolerateUndecodableRequests } from '../grpc/undecodable-request';
import { READINESS_CHECKS, type ReadinessCheck } from '../health/readiness';
import { ShutdownState } from '../platform.module';
import { enterCorrelation } from '../telemetry/correlation';
import type { Logger } from '../telemetry/logger';
import { MetricsRegistry } from '../telemetry/metrics';
import { PinoNestLogger } from '../telemetry/nest-logger';
import { buildOpenApiDocument } from './openapi';

export interface HttpAppSettings {
  service: string;
  description: string;
  version?: string;
  logger: Logger;
  port: number;
  host: string;
  /** Largest request body accepted (bytes). Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Longest path parameter the router matches (Fastify's default is 100); a longer one is answered
   * 404 before any validation could name the problem.
   */
  maxParamLength?: number;
  /** Register raw Fastify routes or hooks before the app starts listening. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Serve OpenAPI at /docs (API_DOCS; httpExposureOf). Default true. */
  apiDocs?: boolean;
  /** Fastify's trustProxy (TRUST_PROXY; httpExposureOf). Default false: the client is the TCP peer. */
  trustProxy?: boolean | number | string[];
  /** Upper bound for the graceful shutdown; the process exits 1 if it is exceeded. */
  shutdownTimeoutMs?: number;
  /** Also serve gRPC (the same operations as the HTTP API) from these proto files. */
  grpc?: {
    port: number;
    package: string | string[];
    protoPath: string | string[];
    /** The services served, by name within `package` (`ConnectionService`): grpc.health.v1 answers for each. */
    service?: string | string[];
    /** Also serve gRPC server reflection (GRPC_REFLECTION). Default false. */
    reflection?: boolean;
    /** Serve TLS with these PEM files (GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE); plaintext without. */
    tls?: { certFile: string; keyFile: string };
  };
}

const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** Largest body of an admin request (docs/ADMIN-API.md): filters and id lists, never payloads. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

/**
 * Fastify's own refusals before routing (a URL with broken percent-encoding, FST_ERR_BAD_URL; a
 * path parameter over `maxParamLength`, 414), in
 * the API's error shape (docs/ARCHITECTURE.md, "HTTP API for TestKase core") instead of Fastify's.
 */
const frameworkErrors = (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = status === 414 ? 'the request URL is too long' : 'the request URL is malformed';
  void reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ error: { code: 'VALIDATION_FAILED', message } }));
};

/**
 * Creates, configures and starts an app on Fastify: JSON logs with correlation ids, request
 * metrics, validation, the one error filter, OpenAPI at /docs (unless turned off), and a graceful shutdown on
 * SIGTERM/SIGINT that exits 0 once everything is closed.
 */
export async function startHttpApp(
  appModule: unknown,
  settings: HttpAppSettings,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: settings.bodyLimit ?? 1024 * 1024,
    routerOptions: { maxParamLength: settings.maxParamLength ?? 100 },
    trustProxy: settings.trustProxy ?? false,
    return503OnClosing: true,
    frameworkErrors,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(appModule as never, adapter, {
    logger: new PinoNestLogger(settings.logger),
    abortOnError: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  // Before Nest registers its routes (at init): admin routes take small bodies only (413 above).
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith('/admin/'))
      route.bodyLimit = Math.min(route.bodyLimit ?? Infinity, ADMIN_BODY_LIMIT);
  });
  const metrics = app.get(MetricsRegistry);
  const requestDuration = metrics.histogram(
    'http_request_duration_seconds',
    'HTTP requests by method, route and status',
    ['method', 'route', 'status'],
  );
  fastify.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers['x-correlation-id'];
    enterCorrelation(typeof header === 'string' && header.length <= 128 ? header : request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (!QUIET_ROUTES.has(route)) {
      const seconds = reply.elapsedTime / 1000;
      requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
      const level = reply.statusCode >= 500 ? 'warn' : 'debug';
      settings.logger[level](
        {
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          // The TCP peer, or what a trusted proxy forwarded (TRUST_PROXY): never a header by itself.
          client: request.ip,
        },
        'request',
      );
    }
    done();
  });

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());

  await settings.configure?.(app);

  if (settings.apiDocs ?? true) {
    const document = buildOpenApiDocument(app, settings);
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  }

  let health: GrpcHealth | undefined;
  if (settings.grpc) {
    const tls = settings.grpc.tls;
    const packages = ([] as string[]).concat(settings.grpc.package);
    const services = ([] as string[]).concat(settings.grpc.service ?? []).map((s) => `${packages[0]}.${s}`);
    const grpcHealth = new GrpcHealth(services, () => app.get<ReadinessCheck[]>(READINESS_CHECKS));
    health = grpcHealth;
    const reflection = settings.grpc.reflection ?? false;
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.GRPC,
        options: {
          url: `${settings.host}:${settings.grpc.port}`,
          package: settings.grpc.package,
          protoPath: settings.grpc.protoPath,
          // No `oneofs`: proto3 `optional` fields would get synthetic `_<field>` keys that the
          // validation pipe (unknown fields refused) would reject.
          // The messages are mapped to the API's values by GrpcMappingInterceptor (ProtoMapper).
          loader: { ...PROTO_LOADER_OPTIONS },
          onLoadPackageDefinition: (definition: PackageDefinition, server: Server) => {
            // Undecodable request bytes: INVALID_ARGUMENT from our guard, not grpc-js's INTERNAL.
            tolerateUndecodableRequests(definition as unknown as Record<string, unknown>);
            // grpc.health.v1 (and reflection) outside Nest's handlers: no core token needed.
            grpcHealth.addToServer(server, reflection ? definition : undefined);
          },
          gracefulShutdown: true,
          ...(tls
            ? {
                credentials: ServerCredentials.createSsl(
                  null,
                  [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
                  false,
                ),
              }
            : {}),
        },
      },
      // Same pipes, guards and error filter as HTTP.
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    settings.logger.info(
      { port: settings.grpc.port, package: settings.grpc.package, tls: Boolean(tls), reflection },
      'gRPC listening',
    );
    grpcHealth.start();
  }

  installShutdown(app, settings, health);
  await app.listen(settings.port, settings.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  settings.logger.info(
    { url: `http://${settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host}:${port}`, port },
    'listening',
  );
  return app;
}

function installShutdown(app: NestFastifyApplication, settings: HttpAppSettings, health?: GrpcHealth): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    settings.logger.info({ signal }, 'shutting down');
    app.get(ShutdownState).shuttingDown = true;
    health?.stop();
    const timeout = setTimeout(() => {
      settings.logger.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs ?? 9_500);
    timeout.unref();
    app
      .close()
      .then(() => {
        settings.logger.flush?.();
        process.exit(0);
      })
      .catch((error: unknown) => {
        settings.logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
