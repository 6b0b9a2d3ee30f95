import { isAppError } from '@testkase/util';

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTCONN',
]);
/** SQLSTATEs of a server that is away: class 08 (connection exception), shutdown, starting up. */
const SQLSTATE = /^(08...|57P0[123])$/;
/** What node-postgres and its pool say when the server goes away mid-session or cannot be reached. */
const MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|client has encountered a connection error|connection is not open|cannot use a pool after calling end/i;

/**
 * Whether a handler failed because a server it needs (Postgres, mostly) is unreachable, rather than
 * because of the message: such a failure says nothing about the message, so the consumer runner
 * holds the message instead of counting the delivery towards the dead-letter limit
 * (docs/ARCHITECTURE.md, "Messaging"). Classified errors (AppError) are never taken for one.
 */
export function isConnectionFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current && typeof current === 'object' && !seen.has(current);) {
    seen.add(current);
    if (isAppError(current)) return false;
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}
