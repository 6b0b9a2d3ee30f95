/** Raised by the transport when its own per-attempt timer fired. */
export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export interface NetworkFailure {
  /** Human-readable cause, e.g. `connection refused`, `certificate has expired`. */
  readonly cause: string;
  readonly code?: string;
  /** True when the failure proves the request never reached the server (safe to resend a POST). */
  readonly notSent: boolean;
  /** False for failures that will not change on a retry within this call (TLS trust problems). */
  readonly retryable: boolean;
}

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** undici wraps the socket error in `TypeError('fetch failed')`; Happy Eyeballs adds an AggregateError. */
function innermost(error: unknown): ErrorLike {
  let current = error as ErrorLike;
  for (let depth = 0; depth < 5; depth++) {
    if (typeof current?.code === 'string') return current;
    if (Array.isArray(current?.errors) && current.errors.length > 0) current = current.errors[0] as ErrorLike;
    else if (current?.cause) current = current.cause as ErrorLike;
    else break;
  }
  return current ?? {};
}

const NOT_SENT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  EAI_FAIL: 'DNS lookup failed',
  EAI_NODATA: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

const MAYBE_SENT: Readonly<Record<string, string>> = {
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
};

const TLS_CAUSES: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate is not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'certificate issuer is not trusted (unable to verify the first certificate)',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate issuer is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer is not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate does not match the host name',
  CERT_REVOKED: 'certificate has been revoked',
};

/** Names the cause of a transport failure and whether resending is safe, without leaking request data. */
export function describeNetworkFailure(error: unknown): NetworkFailure {
  if (error instanceof AttemptTimeoutError) return { cause: error.message, notSent: false, retryable: true };
  const inner = innermost(error);
  const code = typeof inner.code === 'string' ? inner.code : undefined;
  if (code && NOT_SENT[code]) return { cause: NOT_SENT[code], code, notSent: true, retryable: true };
  if (code && MAYBE_SENT[code]) return { cause: MAYBE_SENT[code], code, notSent: false, retryable: true };
  if (code && (TLS_CAUSES[code] || /CERT|TLS|SSL/.test(code))) {
    const cause = TLS_CAUSES[code] ?? `TLS handshake failed (certificate problem)`;
    return { cause: `TLS: ${cause} (${code})`, code, notSent: true, retryable: false };
  }
  return { cause: code ? `network error (${code})` : 'network error', code, notSent: false, retryable: true };
}
