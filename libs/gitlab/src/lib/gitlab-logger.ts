/**
 * The logger this library reports retries, waits and pauses to (pino/Nest-style: object, then
 * message). Nothing passed to it ever contains the token.
 */
export interface GitlabLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: GitlabLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
