import type { LoggerService, LogLevel } from '@nestjs/common';

import type { Logger } from './logger';

/**
 * Nest's logger interface on top of pino: `new Logger(Context).log({...}, 'msg')` from anywhere
 * in Nest code writes one JSON line with the context, the correlation id and the fields.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  setLogLevels(_levels: LogLevel[]): void {
    // The level comes from LOG_LEVEL; Nest's own list is ignored.
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ): void {
    // Nest passes the context last; error() may pass a stack before it.
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const text = args.find((arg): arg is string => typeof arg === 'string');
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) }, text ?? '');
    } else if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else {
      const stack = args.find((arg): arg is string => typeof arg === 'string' && arg.includes('\n    at '));
      this.pino[level]({ ...fields, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
