import { fetch, type Dispatcher, type Response } from 'undici';

import { AppError, isAppError } from '@testkase/util';

import { assertInstanceUrlAllowed, type HostResolver, type UrlPolicy } from '../ssrf/url-policy';
import { AttemptTimeoutError } from './network-failure';

export const MAX_REDIRECTS = 5;
/** Largest response body read by default: a page of 100 issues is far below it. */
export const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const AUTH_HEADERS = ['private-token', 'authorization', 'job-token', 'sudo'];

export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ReceivedResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly url: URL;
}

export interface FetchContext {
  readonly dispatcher: Dispatcher;
  readonly policy: UrlPolicy;
  readonly resolver: HostResolver;
  readonly timeoutMs: number;
  /** Largest body read from one response (redirects included); above it the transfer is aborted. */
  readonly maxResponseBytes: number;
  readonly signal?: AbortSignal;
}

function tooLarge(maxBytes: number, status: number, seenBytes: number | undefined): AppError {
  return new AppError(
    'GITLAB_RESPONSE_TOO_LARGE',
    `GitLab's response is larger than ${maxBytes} bytes; transfer aborted`,
    {
      details: {
        status,
        maxBytes,
        cause: 'response too large',
        ...(seenBytes !== undefined ? { contentLength: seenBytes } : {}),
      },
    },
  );
}

/**
 * Reads the body as text, at most `maxBytes` of it: a `Content-Length` above the cap is refused
 * before anything is read, a chunked body is counted while it streams. Either way `abort` ends the
 * transfer (and its socket) at once, so a hostile instance cannot stream gigabytes into memory.
 */
async function readCapped(response: Response, maxBytes: number, abort: () => void): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > maxBytes) {
    abort();
    throw tooLarge(maxBytes, response.status, declared);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      abort();
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, response.status, undefined);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function withoutAuth(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !AUTH_HEADERS.includes(name.toLowerCase())),
  );
}

/**
 * Where a redirect may go: re-validated like the instance URL itself (scheme, credentials, every
 * resolved address), never from https down to http, and the token only stays on the same host.
 */
async function nextHop(
  current: OutgoingRequest,
  status: number,
  location: string,
  ctx: FetchContext,
): Promise<OutgoingRequest | null> {
  let target: URL;
  try {
    target = new URL(location, current.url);
  } catch {
    throw new AppError('URL_NOT_ALLOWED', 'GitLab redirected to an invalid URL', { details: { status } });
  }
  await assertInstanceUrlAllowed(target, ctx.policy, { resolver: ctx.resolver });
  if (current.url.protocol === 'https:' && target.protocol === 'http:') {
    throw new AppError('URL_NOT_ALLOWED', 'Refusing a redirect from https to http', {
      details: { status, host: target.hostname },
    });
  }
  const sameHost = target.host.toLowerCase() === current.url.host.toLowerCase();
  const headers = sameHost ? current.headers : withoutAuth(current.headers);
  if (status === 307 || status === 308) return { ...current, url: target, headers };
  // 301/302/303 turn the request into a GET; only safe when it already was one.
  if (current.method === 'GET' || current.method === 'HEAD')
    return { method: current.method, url: target, headers };
  return null;
}

/**
 * One attempt: sends the request through the guarded dispatcher, follows at most MAX_REDIRECTS
 * redirects itself (`redirect: 'manual'`), and reads the body (at most `maxResponseBytes`), all
 * within `timeoutMs`.
 * @throws AttemptTimeoutError, AppError (URL_NOT_ALLOWED, INSTANCE_UNREACHABLE,
 * GITLAB_RESPONSE_TOO_LARGE), or undici's error
 */
export async function guardedFetch(request: OutgoingRequest, ctx: FetchContext): Promise<ReceivedResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ctx.timeoutMs);
  const onCallerAbort = (): void => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    let current = request;
    for (let hop = 0; ; hop++) {
      const response = await fetch(current.url, {
        method: current.method,
        headers: current.headers,
        body: current.body,
        redirect: 'manual',
        dispatcher: ctx.dispatcher,
        signal: controller.signal,
      });
      const text = await readCapped(response, ctx.maxResponseBytes, () => controller.abort());
      const location = response.headers.get('location');
      if (REDIRECT_STATUSES.has(response.status) && location) {
        if (hop >= MAX_REDIRECTS) {
          throw new AppError('INSTANCE_UNREACHABLE', `Too many redirects (more than ${MAX_REDIRECTS})`, {
            details: { cause: 'too many redirects' },
          });
        }
        const next = await nextHop(current, response.status, location, ctx);
        if (next) {
          current = next;
          continue;
        }
      }
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        text,
        url: current.url,
      };
    }
  } catch (error) {
    if (timedOut) throw new AttemptTimeoutError(ctx.timeoutMs);
    // The connection-time address check fails inside undici, which wraps it in `fetch failed`.
    const cause = (error as { cause?: unknown }).cause;
    if (isAppError(cause)) throw cause;
    throw error;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onCallerAbort);
  }
}
