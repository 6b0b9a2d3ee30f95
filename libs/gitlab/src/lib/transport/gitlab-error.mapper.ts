import { AppError, type AppErrorOptions, type ErrorCode } from '@testkase/util';

/** What GitLab said in an error body, whatever the shape (docs/GITLAB.md, "Errors and status codes"). */
export interface GitlabErrorBody {
  /** GitLab's own message, flattened to one line. */
  readonly message: string;
  /** `{"message": {"field": ["…"]}}` validation errors. */
  readonly fieldErrors?: Readonly<Record<string, readonly string[]>>;
  /** OAuth-style `error` code (`invalid_token`, `insufficient_scope`). */
  readonly oauthError?: string;
  readonly scope?: string;
}

const MAX_MESSAGE_CHARS = 500;

const truncate = (text: string): string =>
  text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;

function asFieldErrors(value: Record<string, unknown>): Record<string, readonly string[]> {
  return Object.fromEntries(
    Object.entries(value).map(([field, messages]) => [
      field,
      Array.isArray(messages) ? messages.map(String) : [String(messages)],
    ]),
  );
}

function fromJson(json: unknown, status: number): GitlabErrorBody {
  if (typeof json !== 'object' || json === null) return { message: `HTTP ${status}` };
  const body = json as Record<string, unknown>;
  if (typeof body['error'] === 'string') {
    const description = typeof body['error_description'] === 'string' ? body['error_description'] : undefined;
    // OAuth errors (rack-oauth2) carry a snake_case code; Grape's `{"error": "title is missing"}` does not.
    const isOauth = description !== undefined || /^[a-z_]+$/.test(body['error']);
    return {
      message: description ?? body['error'],
      ...(isOauth ? { oauthError: body['error'] } : {}),
      ...(typeof body['scope'] === 'string' ? { scope: body['scope'] } : {}),
    };
  }
  const message = body['message'];
  if (typeof message === 'string') return { message };
  if (typeof message === 'object' && message !== null) {
    const nested = message as Record<string, unknown>;
    // The application rate limiter's 429: {"message":{"error":"This endpoint has been requested too many times…"}}
    if (typeof nested['error'] === 'string' && Object.keys(nested).length === 1)
      return { message: nested['error'] };
    const fieldErrors = asFieldErrors(nested);
    return {
      message: Object.entries(fieldErrors)
        .map(([field, messages]) => `${field} ${messages.join(', ')}`)
        .join('; '),
      fieldErrors,
    };
  }
  return { message: `HTTP ${status}` };
}

/** Parses any GitLab error body: JSON (`message`/`error`/OAuth shapes) or plain text (`Retry later`). */
export function parseErrorBody(
  status: number,
  contentType: string | undefined,
  text: string,
): GitlabErrorBody {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const trimmed = text.trim();
  if (type === 'application/json' || (type === '' && /^[[{]/.test(trimmed))) {
    try {
      const parsed = fromJson(JSON.parse(trimmed), status);
      return { ...parsed, message: truncate(parsed.message) };
    } catch {
      // Not JSON after all: fall through to text.
    }
  }
  if (type === 'text/html' || /^<(!doctype|html)/i.test(trimmed))
    return { message: `HTTP ${status} (HTML page)` };
  return { message: trimmed === '' ? `HTTP ${status}` : truncate(trimmed) };
}

export interface HttpErrorContext {
  readonly status: number;
  readonly method: string;
  /** Path below `/api/v4/`, without the query. */
  readonly apiPath: string;
  readonly body: GitlabErrorBody;
  readonly attempts: number;
  /** For POSTs that failed in a way that does not prove GitLab did nothing. */
  readonly outcomeUnknown?: boolean;
  readonly retryAfterMs?: number;
}

const PROJECT_PATH = /^projects\/[^/]+\/?$/;

function build(
  code: ErrorCode,
  message: string,
  ctx: HttpErrorContext,
  extra: AppErrorOptions = {},
): AppError {
  return new AppError(code, message, {
    ...extra,
    details: {
      status: ctx.status,
      gitlabMessage: ctx.body.message,
      method: ctx.method,
      path: ctx.apiPath,
      attempts: ctx.attempts,
      ...(ctx.body.fieldErrors ? { fieldErrors: ctx.body.fieldErrors } : {}),
      ...(ctx.outcomeUnknown ? { outcomeUnknown: true } : {}),
      ...extra.details,
    },
  });
}

/** Maps a final (non-retried) GitLab error response to the AppError codes of @testkase/util. */
export function mapHttpError(ctx: HttpErrorContext): AppError {
  const { status, body } = ctx;
  const said = body.message;
  if (status === 401) {
    if (body.oauthError === 'invalid_token' && /expired/i.test(said)) {
      return build('TOKEN_EXPIRED', `GitLab token has expired: ${said}`, ctx, {
        details: { reason: 'expired' },
      });
    }
    if (body.oauthError === 'invalid_token' && /revoked/i.test(said)) {
      return build('AUTH_FAILED', `GitLab token was revoked: ${said}`, ctx, {
        details: { reason: 'revoked' },
      });
    }
    return build('AUTH_FAILED', `GitLab rejected the token: ${said}`, ctx, {
      details: { reason: 'invalid' },
    });
  }
  if (status === 403) {
    if (body.oauthError === 'insufficient_scope') {
      return build('INSUFFICIENT_SCOPE', `GitLab token lacks the required scope: ${said}`, ctx, {
        details: body.scope ? { requiredScope: body.scope } : {},
      });
    }
    return build('INSUFFICIENT_ROLE', `GitLab refused the request (403): ${said}`, ctx);
  }
  if (status === 404) {
    if (PROJECT_PATH.test(ctx.apiPath) || /project not found/i.test(said)) {
      return build(
        'PROJECT_NOT_FOUND',
        `GitLab project not found or not visible to this token: ${said}`,
        ctx,
      );
    }
    return build('GITLAB_NOT_FOUND', `GitLab resource not found: ${said}`, ctx);
  }
  if (status === 429) {
    return build(
      'RATE_LIMITED',
      `GitLab rate limit still exceeded after ${ctx.attempts} attempt(s): ${said}`,
      ctx,
      {
        transient: true,
        retryAfterMs: ctx.retryAfterMs,
      },
    );
  }
  if (status >= 500) {
    return build('GITLAB_UNAVAILABLE', `GitLab answered ${status}: ${said}`, ctx, { transient: true });
  }
  return build('GITLAB_REJECTED', `GitLab rejected the request (${status}): ${said}`, ctx);
}
