import { trace } from '@opentelemetry/api';
import pino, { type Logger, type LoggerOptions } from 'pino';

import { currentCorrelationId } from './correlation';
import { REDACTED_PATHS, scrubSecrets } from './redaction';

export interface LoggerSettings {
  service: string;
  level: string;
}

/** Options shared by the process logger and the per-request logger of nestjs-pino. */
export function loggerOptions({ service, level }: LoggerSettings): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
    // The correlation id, and the trace and span ids of the active span: a log line leads to its trace.
    mixin: () => {
      const fields: { correlationId?: string; traceId?: string; spanId?: string } = {};
      const correlationId = currentCorrelationId();
      if (correlationId) fields.correlationId = correlationId;
      const spanContext = trace.getActiveSpan()?.spanContext();
      if (spanContext && trace.isSpanContextValid(spanContext)) {
        fields.traceId = spanContext.traceId;
        fields.spanId = spanContext.spanId;
      }
      return fields;
    },
    serializers: {
      err: (error: unknown) => {
        const serialized = pino.stdSerializers.err(error as Error);
        if (serialized?.message) serialized.message = scrubSecrets(serialized.message);
        if (serialized?.stack) serialized.stack = scrubSecrets(serialized.stack);
        return serialized;
      },
    },
    hooks: {
      // Last line of defence: a token pasted into a message string is scrubbed too.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)) as Parameters<
          typeof method
        >;
        method.apply(this, scrubbed);
      },
    },
  };
}

export function createLogger(settings: LoggerSettings, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(settings), destination) : pino(loggerOptions(settings));
}

export type { Logger } from 'pino';
