/**
 * The stable error codes of the public API (docs/ARCHITECTURE.md, "HTTP API for TestKase core").
 * Codes are part of the contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'NOT_CONNECTED',
  'ALREADY_CONNECTED',
  'SYNCED_READ_ONLY',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'AUTH_FAILED',
  'TOKEN_EXPIRED',
  'INSUFFICIENT_SCOPE',
  'INSUFFICIENT_ROLE',
  'PROJECT_NOT_FOUND',
  'URL_NOT_ALLOWED',
  'LABEL_CREATION_FORBIDDEN',
  'GITLAB_REJECTED',
  'GITLAB_NOT_FOUND',
  'INSTANCE_UNREACHABLE',
  'GITLAB_UNAVAILABLE',
  'GITLAB_RESPONSE_TOO_LARGE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  /** Extra, safe-to-show facts for the caller (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** True when the same operation may succeed later (network, 5xx, rate limit). */
  transient?: boolean;
  /** When known, how long to wait before trying again. */
  retryAfterMs?: number;
}

/**
 * Base of every error the services raise on purpose. Carries a stable code; adapters
 * (HTTP filter, NATS handler runner) decide the status or the ack/nak/term outcome from it.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly transient: boolean;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** A failure worth retrying later: network trouble, a dependency down, a rate limit. */
export class TransientError extends AppError {
  constructor(message: string, options: Omit<AppErrorOptions, 'transient'> & { code?: ErrorCode } = {}) {
    super(options.code ?? 'SERVICE_UNAVAILABLE', message, { ...options, transient: true });
    this.name = 'TransientError';
  }
}

/** Input that can never be processed, however often it is retried. */
export class ValidationError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('VALIDATION_FAILED', message, { details });
    this.name = 'ValidationError';
  }
}
