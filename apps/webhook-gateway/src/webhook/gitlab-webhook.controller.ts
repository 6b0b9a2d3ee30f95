import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { context, propagation, SpanKind, trace, type Context } from '@opentelemetry/api';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';

import { tracer, type Logger } from '@testkase/platform';

import type { DeliveriesSeenReporter } from './deliveries-seen.service';
import type { DeliveryAuthenticator } from './delivery-authenticator.service';
import { messageHeaders, messageIdOf } from './delivery-headers';
import type { DeliveryIntakeService, IntakeOutcome } from './delivery-intake.service';
import { eventLabelOf, looksLikeJsonObject, routeDelivery } from './delivery-route';
import type { BudgetReservation, InflightBudget } from './inflight-budget';
import type { CachedVerifier } from './verifier-store.service';
import type { GatewayMetrics } from './webhook.metrics';

/** GitLab's largest webhook body (`REQUEST_BODY_SIZE_LIMIT = 25.megabytes`, docs/GITLAB.md, "Limits"). */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;
export const WEBHOOK_ROUTE = '/webhooks/gitlab/:connectionId';

interface WebhookRoute {
  Params: { connectionId: string };
  Body: Buffer | undefined;
}
/** The request property (declared with decorateRequest) that carries the verifier from onRequest. */
const VERIFIER = 'gitlabWebhookVerifier';
/** The body bytes reserved in onRequest ({@link InflightBudget}), released with the answer. */
const RESERVATION = 'gitlabWebhookReservation';
/** Set once the handler runs: from then on the answer, not the closed socket, releases the bytes. */
const HANDLING = 'gitlabWebhookHandling';
type WebhookRequest = FastifyRequest<WebhookRoute> & {
  [VERIFIER]?: CachedVerifier | null;
  [RESERVATION]?: BudgetReservation | null;
  [HANDLING]?: boolean;
};

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

/** One body for every authentication failure, whatever the cause. */
const UNAUTHORIZED = errorBody('UNAUTHENTICATED', 'unknown connection or wrong webhook token');
const NOT_JSON = errorBody('VALIDATION_FAILED', 'the body is not a JSON object');
const NO_EVENT = errorBody('VALIDATION_FAILED', 'X-Gitlab-Event is missing');
const UNAVAILABLE = errorBody(
  'SERVICE_UNAVAILABLE',
  'the delivery cannot be stored now; it was not accepted',
);
const NO_SIGNING_KEY = errorBody('SERVICE_UNAVAILABLE', 'the signature of this hook cannot be checked now');
const CONNECTION_BUSY = errorBody(
  'SERVICE_UNAVAILABLE',
  'this connection has too many bytes of deliveries in flight; it was not accepted',
);
const GATEWAY_BUSY = errorBody(
  'SERVICE_UNAVAILABLE',
  'the gateway has too many bytes of deliveries in flight; it was not accepted',
);
const SPOOL_QUOTA = errorBody(
  'SERVICE_UNAVAILABLE',
  'JetStream cannot take deliveries now and this connection has used up its spool quota; it was not accepted',
);
const PARKED_QUOTA = errorBody(
  'SERVICE_UNAVAILABLE',
  'the delivery is too large for NATS and the quota for parked deliveries is used up; it was not accepted',
);
/**
 * Seconds in `Retry-After` of the answers above. GitLab does not retry; every such answer counts
 * toward disabling the hook, and a 429 with `Retry-After` may make GitLab back the hook off at once
 * (docs/GITLAB.md, "Webhook deliveries"), hence 503 for the per-connection limit too.
 */
export const RETRY_AFTER_SECONDS = 1;

const ANSWERS: Readonly<Record<IntakeOutcome, { status: number; body: string }>> = {
  published: { status: 202, body: '{"status":"published"}' },
  duplicate: { status: 202, body: '{"status":"duplicate"}' },
  spooled: { status: 202, body: '{"status":"spooled"}' },
  parked: { status: 202, body: '{"status":"parked"}' },
  unavailable: { status: 503, body: UNAVAILABLE },
  over_quota: { status: 503, body: PARKED_QUOTA },
  spool_full: { status: 503, body: SPOOL_QUOTA },
};
const IGNORED = '{"status":"ignored"}';

/** Random bytes for new trace ids, drawn from the system a block at a time (as randomUUID does). */
const TRACE_ID_BYTES = 16 + 8;
const traceIdPool = Buffer.allocUnsafe(TRACE_ID_BYTES * 256);
let traceIdOffset = traceIdPool.length;

/** 32 + 16 hex digits for a new trace: unique, not secret; two hex conversions, no UUID strings. */
function newTraceparent(): string {
  if (traceIdOffset === traceIdPool.length) {
    randomFillSync(traceIdPool);
    traceIdOffset = 0;
  }
  const at = traceIdOffset;
  traceIdOffset += TRACE_ID_BYTES;
  const traceId = traceIdPool.toString('hex', at, at + 16);
  const spanId = traceIdPool.toString('hex', at + 16, at + TRACE_ID_BYTES);
  return `00-${traceId}-${spanId}-00`;
}

/** The bytes a request's body will take: its Content-Length, or the limit when it has none (chunked). */
function announcedBytes(headers: IncomingHttpHeaders): number {
  const length = headers['content-length'];
  if (typeof length !== 'string' || !/^\d{1,15}$/.test(length)) return MAX_BODY_BYTES;
  // A body over the limit is refused (413) from the same header before it is read.
  return Math.min(Number(length), MAX_BODY_BYTES);
}

/**
 * W3C trace context for the message. With tracing on, the context of the request's server span: a
 * new root, since the caller's `traceparent` on this public route is set by GitLab or by anyone and
 * decides neither parent nor sampling (main.ts, `untrustedIngress`; it is kept as a span link).
 * With tracing off (main.ts), a fresh unsampled one, so that every event carries a trace id.
 */
function traceContext(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (!carrier['traceparent']) carrier['traceparent'] = newTraceparent();
  return carrier;
}

/**
 * `POST /webhooks/gitlab/:connectionId`, registered on Fastify directly (not as a Nest controller):
 * the hot path has no Nest pipeline, parses nothing but what it needs, and keeps the body as the
 * bytes GitLab sent. The token is checked in `onRequest`, before a byte of the body is read.
 */
export class GitlabWebhookController {
  private refusalLoggedAt = 0;
  private refusedSinceLog = 0;

  constructor(
    private readonly authenticator: DeliveryAuthenticator,
    private readonly intake: DeliveryIntakeService,
    private readonly seen: DeliveriesSeenReporter,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly budget: InflightBudget,
  ) {
    metrics.readInflightBytes(() => budget.total);
  }

  register(fastify: FastifyInstance): void {
    void fastify.register((scope, _options, done) => {
      // Only this route's scope: the body stays a Buffer, and only JSON is accepted (else 415).
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        'application/json',
        { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
        (_request, body, next) => next(null, body),
      );
      // Declared, so that setting it per request keeps the request objects' shape.
      scope.decorateRequest(VERIFIER, null);
      scope.decorateRequest(RESERVATION, null);
      scope.decorateRequest(HANDLING, false);
      scope.setErrorHandler((error: FastifyError, request, reply) => this.onError(error, request, reply));
      scope.post<WebhookRoute>(
        WEBHOOK_ROUTE,
        { bodyLimit: MAX_BODY_BYTES, onRequest: this.authenticate },
        this.handle,
      );
      done();
    });
  }

  private readonly authenticate = (
    request: WebhookRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void => {
    const checked = this.authenticator.checkToken(
      request.params.connectionId,
      request.headers['x-gitlab-token'],
    );
    if (checked instanceof Promise) {
      checked.then(
        (verifier) => this.admit(request, reply, done, verifier),
        (error: Error) => done(error),
      );
    } else {
      this.admit(request, reply, done, checked);
    }
  };

  private admit(
    request: WebhookRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
    verifier: CachedVerifier | undefined,
  ): void {
    if (!verifier) {
      void this.unauthorized(request, reply);
      return;
    }
    request[VERIFIER] = verifier;
    // Before a byte of the body is read: its announced size (GitLab sends Content-Length; a chunked
    // body may be as large as the limit) must fit into the connection's and the gateway's budget.
    const reservation = this.budget.reserve(verifier.connectionId, announcedBytes(request.headers));
    if (reservation === 'connection' || reservation === 'overall') {
      const event = eventLabelOf(request.headers['x-gitlab-event']);
      this.refusedSinceLog += 1;
      // At most one line a second: the refusals themselves are counted in the metrics.
      if (Date.now() - this.refusalLoggedAt >= 1_000) {
        this.logger.warn(
          {
            connectionId: verifier.connectionId,
            inflightBytes: this.budget.total,
            limit: reservation,
            refused: this.refusedSinceLog,
          },
          'webhook deliveries refused: too many bytes in flight',
        );
        this.refusalLoggedAt = Date.now();
        this.refusedSinceLog = 0;
      }
      void (reservation === 'connection'
        ? this.answer(reply, event, 'throttled', 503, CONNECTION_BUSY, RETRY_AFTER_SECONDS)
        : this.answer(reply, event, 'overloaded', 503, GATEWAY_BUSY, RETRY_AFTER_SECONDS));
      return;
    }
    request[RESERVATION] = reservation;
    // A body that never arrives (the sender gave up) never reaches the handler.
    reply.raw.once('close', () => {
      if (!request[HANDLING]) this.release(request);
    });
    done();
  }

  private release(request: FastifyRequest): void {
    const reservation = (request as WebhookRequest)[RESERVATION];
    if (!reservation || reservation.released) return;
    this.budget.release(reservation);
  }

  /** Synchronous up to the publish; the answer is sent from the publish callback (no promises). */
  private readonly handle = (request: WebhookRequest, reply: FastifyReply): void => {
    request[HANDLING] = true;
    const verifier = request[VERIFIER];
    const body = request.body;
    if (!verifier) {
      this.unauthorized(request, reply);
    } else if (!Buffer.isBuffer(body) || !looksLikeJsonObject(body)) {
      this.answer(reply, eventLabelOf(request.headers['x-gitlab-event']), 'rejected', 400, NOT_JSON);
    } else if (verifier.signed) {
      this.checkSignatureThenRoute(request, reply, verifier, body).catch((error: unknown) =>
        this.onError(error as FastifyError, request, reply),
      );
    } else {
      this.route(request, reply, verifier, body);
    }
  };

  private async checkSignatureThenRoute(
    request: WebhookRequest,
    reply: FastifyReply,
    verifier: CachedVerifier,
    body: Buffer,
  ): Promise<void> {
    const check = await this.authenticator.checkSignature(verifier, request.headers, body);
    if (check === 'valid') {
      // A valid signature covers `webhook-id`: it, not the unsigned Idempotency-Key, is the message id.
      const signedId = request.headers['webhook-id'];
      this.route(request, reply, verifier, body, typeof signedId === 'string' ? signedId : undefined);
    } else if (check === 'unavailable') {
      this.logger.warn({ connectionId: verifier.connectionId }, 'signing key unavailable; delivery refused');
      this.answer(reply, eventLabelOf(request.headers['x-gitlab-event']), 'unavailable', 503, NO_SIGNING_KEY);
    } else {
      this.logger.info(
        { connectionId: verifier.connectionId, check, client: request.ip },
        'webhook signature refused',
      );
      this.unauthorized(request, reply);
    }
  }

  private route(
    request: WebhookRequest,
    reply: FastifyReply,
    verifier: CachedVerifier,
    body: Buffer,
    signedId?: string,
  ): void {
    const eventHeader = request.headers['x-gitlab-event'];
    if (typeof eventHeader !== 'string') {
      this.answer(reply, 'none', 'rejected', 400, NO_EVENT);
      return;
    }
    const route = routeDelivery(eventHeader, body);
    if ('invalid' in route) {
      this.answer(reply, route.event, 'rejected', 400, NOT_JSON);
      return;
    }
    this.seen.record(verifier.connectionId);
    if (!route.use) {
      this.answer(reply, route.event, 'ignored', 200, IGNORED);
      return;
    }
    const headers = request.headers;
    const msgId = messageIdOf(headers, verifier.connectionId, route.kind, body, signedId);
    // The publish (or spooling) of the delivery, a child of the request's span; the consumer's span
    // is its child (docs/ARCHITECTURE.md, "Telemetry"). A no-op span when tracing is off.
    const span = tracer().startSpan('publish gitlab.events', {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.template': 'gitlab.events.{connection}.{kind}',
        'messaging.message.id': msgId,
        'messaging.message.body.size': body.length,
      },
    });
    this.intake.accept(
      {
        connectionId: verifier.connectionId,
        kind: route.kind,
        msgId,
        headers: messageHeaders(
          headers,
          new Date().toISOString(),
          traceContext(trace.setSpan(context.active(), span)),
        ),
        body,
      },
      (outcome) => {
        span.setAttribute('testkase.delivery.outcome', outcome);
        span.end();
        const answer = ANSWERS[outcome];
        const retryAfter =
          outcome === 'over_quota' || outcome === 'spool_full' ? RETRY_AFTER_SECONDS : undefined;
        this.answer(reply, route.event, outcome, answer.status, answer.body, retryAfter);
      },
    );
  }

  private answer(
    reply: FastifyReply,
    event: string,
    outcome: Parameters<GatewayMetrics['count']>[1],
    status: number,
    body: string,
    retryAfterSeconds?: number,
  ): FastifyReply {
    this.metrics.count(event, outcome);
    // Answered: the body is no longer held (the intake is done with it).
    this.release(reply.request);
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    return reply.code(status).type('application/json').send(body);
  }

  private unauthorized(request: WebhookRequest, reply: FastifyReply): FastifyReply {
    // `client` is the TCP peer, or the address a trusted proxy forwarded (TRUST_PROXY).
    this.logger.debug(
      { connectionId: request.params.connectionId.slice(0, 64), client: request.ip },
      'webhook delivery unauthorized',
    );
    return this.answer(
      reply,
      eventLabelOf(request.headers['x-gitlab-event']),
      'unauthorized',
      401,
      UNAUTHORIZED,
    );
  }

  /** Fastify's own refusals (size, content type, a broken request) in the API's error shape. */
  private onError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const event = eventLabelOf(request.headers['x-gitlab-event']);
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return this.answer(
        reply,
        event,
        'rejected',
        413,
        errorBody('PAYLOAD_TOO_LARGE', `the body exceeds ${MAX_BODY_BYTES} bytes`),
      );
    }
    if (status === 415) {
      return this.answer(
        reply,
        event,
        'rejected',
        415,
        errorBody('UNSUPPORTED_MEDIA_TYPE', 'only application/json is accepted'),
      );
    }
    if (status >= 400 && status < 500) {
      return this.answer(reply, event, 'rejected', status, errorBody('VALIDATION_FAILED', error.message));
    }
    this.logger.error({ err: error }, 'webhook delivery failed');
    return this.answer(reply, event, 'unavailable', 500, errorBody('INTERNAL', 'the delivery failed'));
  }
}
