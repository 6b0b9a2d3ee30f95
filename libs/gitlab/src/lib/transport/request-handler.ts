import type { FormattedResponse, RequestHandlerFn, ResponseBodyTypes } from '@gitbeaker/requester-utils';

import { AppError, isAppError, jitteredBackoff, sleep } from '@testkase/util';

import type { GitlabLogger } from '../gitlab-logger';
import { TokenPausedError, type TokenRateLimiter } from '../rate-limit/limiter-registry';
import { categorizeRequest } from '../rate-limit/rate-limits';
import { isQuotaExhausted, rateLimitResetWaitMs, retryAfterMs } from '../rate-limit/server-rate-headers';
import { mapHttpError, parseErrorBody, type GitlabErrorBody } from './gitlab-error.mapper';
import { templateRoute, type GitlabMetricsSink } from './gitlab-metrics';
import {
  guardedFetch,
  type FetchContext,
  type OutgoingRequest,
  type ReceivedResponse,
} from './guarded-fetch';
import { describeNetworkFailure } from './network-failure';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  /** Most time one call may spend waiting between attempts (backoff, Retry-After, server pauses). */
  readonly maxTotalWaitMs: number;
  /** Base and cap of the jittered exponential backoff for 5xx and network errors. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  maxTotalWaitMs: 120_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
});

const RETRYABLE_5XX = new Set([500, 502, 503, 504]);
/** Base of the backoff after a 429 that says nothing about when to come back. */
const RATE_LIMIT_BACKOFF_BASE_MS = 1000;

export interface TransportContext {
  /** `https://host[/prefix]/api/v4/` */
  readonly apiBase: URL;
  readonly limiter: TokenRateLimiter;
  readonly fetch: FetchContext;
  readonly retry: RetryPolicy;
  readonly logger: GitlabLogger;
  /** The token, only to scrub it from anything GitLab echoes back. */
  readonly secret: string;
  /** Validates the instance URL (DNS included) once per client before the first request. */
  readonly ensureInstanceAllowed: () => Promise<void>;
  /** Calls by route and status, 429 waits and retries (none when absent). */
  readonly metrics?: GitlabMetricsSink;
}

interface Attempted {
  readonly request: OutgoingRequest;
  readonly apiPath: string;
  readonly idempotent: boolean;
}

function toOutgoing(endpoint: string, options: Record<string, unknown>, apiBase: URL): Attempted {
  const method = String(options['method'] ?? 'GET').toUpperCase();
  const prefix = typeof options['prefixUrl'] === 'string' ? options['prefixUrl'] : apiBase.href;
  const url = new URL(endpoint, prefix.endsWith('/') ? prefix : `${prefix}/`);
  url.search = typeof options['searchParams'] === 'string' ? options['searchParams'] : '';
  if (url.origin !== apiBase.origin || !url.pathname.startsWith(apiBase.pathname)) {
    throw new AppError('URL_NOT_ALLOWED', 'Request path escapes the GitLab API base', {
      details: { path: url.pathname },
    });
  }
  const headers = (options['headers'] ?? {}) as Record<string, string>;
  const body = typeof options['body'] === 'string' ? options['body'] : undefined;
  return {
    request: { method, url, headers, ...(body !== undefined ? { body } : {}) },
    apiPath: url.pathname.slice(apiBase.pathname.length),
    idempotent: method !== 'POST' && method !== 'PATCH',
  };
}

function parseSuccessBody(response: ReceivedResponse): ResponseBodyTypes {
  if (response.status === 204 || response.text.trim() === '') return null;
  const type = (response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    try {
      return JSON.parse(response.text) as ResponseBodyTypes;
    } catch {
      // handled below
    }
  }
  throw new AppError('INSTANCE_UNREACHABLE', `Not a GitLab API response (${type || 'no content type'})`, {
    details: { status: response.status, cause: 'not a GitLab API response' },
  });
}

/**
 * The request handler plugged into gitbeaker's `createRequesterFn`. It replaces gitbeaker's own
 * (10 immediate retries, Retry-After ignored, its own throttle): per-token limits, server pauses,
 * bounded retries, SSRF-guarded transport, and GitLab errors mapped to AppError.
 */
export function createRequestHandler(ctx: TransportContext): RequestHandlerFn {
  const scrub = (text: string): string => (ctx.secret ? text.split(ctx.secret).join('[REDACTED]') : text);
  const instance = ctx.apiBase.origin;

  const errorBody = (response: ReceivedResponse): GitlabErrorBody => {
    const parsed = parseErrorBody(response.status, response.headers['content-type'], response.text);
    return { ...parsed, message: scrub(parsed.message) };
  };

  return async (endpoint, options = {}) => {
    const { request, apiPath, idempotent } = toOutgoing(endpoint, options, ctx.apiBase);
    const { method } = request;
    const category = categorizeRequest(method, apiPath);
    const callerSignal = options['signal'] instanceof AbortSignal ? options['signal'] : undefined;
    const fetchContext: FetchContext = callerSignal ? { ...ctx.fetch, signal: callerSignal } : ctx.fetch;
    const log = { instance, method, path: apiPath };
    const metrics = ctx.metrics;
    const route = metrics ? templateRoute(apiPath) : '';
    // A wait before a retry ends when the caller gives up, with the caller's reason.
    const pause = (ms: number): Promise<void> =>
      sleep(ms, callerSignal).catch((error: unknown) => {
        throw callerSignal?.aborted ? (callerSignal.reason ?? error) : error;
      });
    await ctx.ensureInstanceAllowed();

    let waitedMs = 0;
    const canWait = (attempt: number, ms: number): boolean =>
      attempt < ctx.retry.maxAttempts && waitedMs + ms <= ctx.retry.maxTotalWaitMs;

    for (let attempt = 1; ; attempt++) {
      // A caller that gave up (InboundMessage.signal) makes no further attempt.
      if (callerSignal?.aborted) throw callerSignal.reason ?? new Error('GitLab call aborted');
      try {
        const pausedMs = await ctx.limiter.acquire(category, ctx.retry.maxTotalWaitMs - waitedMs);
        if (pausedMs > 0) ctx.logger.debug({ ...log, pausedMs }, 'waited for a GitLab rate-limit pause');
        waitedMs += pausedMs;
      } catch (error) {
        if (!(error instanceof TokenPausedError)) throw error;
        throw new AppError(
          'RATE_LIMITED',
          `GitLab asked this token to wait another ${error.remainingMs} ms`,
          {
            transient: true,
            retryAfterMs: error.remainingMs,
            details: { method, path: apiPath, attempts: attempt - 1 },
          },
        );
      }

      let response: ReceivedResponse;
      const sentAt = performance.now();
      try {
        response = await guardedFetch(request, fetchContext);
        metrics?.request(
          { method, route, status: String(response.status) },
          (performance.now() - sentAt) / 1000,
        );
      } catch (error) {
        metrics?.request({ method, route, status: 'network_error' }, (performance.now() - sentAt) / 1000);
        if (isAppError(error) && error.code === 'GITLAB_RESPONSE_TOO_LARGE') {
          throw new AppError(error.code, error.message, {
            details: { ...error.details, method, path: apiPath, attempts: attempt },
          });
        }
        if (isAppError(error)) throw error;
        if (callerSignal?.aborted) throw error;
        const failure = describeNetworkFailure(error);
        const delay = jitteredBackoff(attempt - 1, ctx.retry.baseDelayMs, ctx.retry.maxDelayMs);
        if (failure.retryable && (idempotent || failure.notSent) && canWait(attempt, delay)) {
          ctx.logger.warn(
            { ...log, attempt, cause: failure.cause, waitMs: delay },
            'retrying GitLab request',
          );
          metrics?.retry('network');
          await pause(delay);
          waitedMs += delay;
          continue;
        }
        const outcomeUnknown = !idempotent && !failure.notSent;
        throw new AppError('INSTANCE_UNREACHABLE', `GitLab instance unreachable: ${scrub(failure.cause)}`, {
          transient: true,
          cause: new Error(scrub(failure.cause)),
          details: {
            cause: scrub(failure.cause),
            ...(failure.code ? { code: failure.code } : {}),
            method,
            path: apiPath,
            attempts: attempt,
            ...(outcomeUnknown ? { outcomeUnknown: true } : {}),
          },
        });
      }

      const now = Date.now();
      if (isQuotaExhausted(response.headers)) {
        const pauseMs = rateLimitResetWaitMs(response.headers, now);
        if (pauseMs !== undefined && pauseMs > 0) {
          await ctx.limiter.pauseFor(pauseMs);
          ctx.logger.info(
            { ...log, pauseMs },
            'GitLab quota exhausted (RateLimit-Remaining: 0); pausing token',
          );
        }
      }

      if (response.status >= 200 && response.status < 300) {
        return {
          body: parseSuccessBody(response),
          headers: response.headers,
          status: response.status,
        } satisfies FormattedResponse;
      }

      if (response.status === 429) {
        const waitMs =
          retryAfterMs(response.headers, now) ??
          rateLimitResetWaitMs(response.headers, now) ??
          jitteredBackoff(
            attempt - 1,
            RATE_LIMIT_BACKOFF_BASE_MS,
            ctx.retry.maxDelayMs,
            RATE_LIMIT_BACKOFF_BASE_MS,
          );
        if (canWait(attempt, waitMs)) {
          await ctx.limiter.pauseFor(waitMs);
          ctx.logger.warn(
            { ...log, attempt, status: 429, waitMs },
            'GitLab rate limit hit; waiting before retrying',
          );
          metrics?.rateLimited(waitMs / 1000);
          metrics?.retry('rate_limited');
          continue;
        }
        throw mapHttpError({
          status: 429,
          method,
          apiPath,
          body: errorBody(response),
          attempts: attempt,
          retryAfterMs: waitMs,
        });
      }

      if (RETRYABLE_5XX.has(response.status) && idempotent) {
        const delay =
          retryAfterMs(response.headers, now) ??
          jitteredBackoff(attempt - 1, ctx.retry.baseDelayMs, ctx.retry.maxDelayMs);
        if (canWait(attempt, delay)) {
          ctx.logger.warn(
            { ...log, attempt, status: response.status, waitMs: delay },
            'retrying GitLab request',
          );
          metrics?.retry('server_error');
          await pause(delay);
          waitedMs += delay;
          continue;
        }
      }

      throw mapHttpError({
        status: response.status,
        method,
        apiPath,
        body: errorBody(response),
        attempts: attempt,
        outcomeUnknown: !idempotent && response.status >= 500,
      });
    }
  };
}
