import {
  context,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

export const tracer = () => trace.getTracer('testkase-gitlab');

/** Anything with header get/set, e.g. nats `MsgHdrs`. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  has?(key: string): boolean;
}

const setter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };
const getter: TextMapGetter<HeaderCarrier | undefined> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => carrier?.get(key) || undefined,
};

/** Writes the W3C `traceparent`/`tracestate` of the active context into message headers. */
export function injectTraceContext(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
  return propagation.extract(context.active(), headers, getter);
}

const TRACEPARENT = /^00-((?!0{32})[0-9a-f]{32})-((?!0{16})[0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote span context a W3C `traceparent` (and `tracestate`) names, or undefined if not valid. */
export function spanContextFromTraceparent(
  traceparent: string | null | undefined,
  tracestate?: string | null,
): SpanContext | undefined {
  const match = TRACEPARENT.exec((traceparent ?? '').trim());
  if (!match) return undefined;
  return {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  };
}

/** The stored trace context of some work, as the outbox keeps it (nullable columns). */
export interface StoredTraceContext {
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * The W3C `traceparent` / `tracestate` of the span active in `ctx`, or nulls when there is none
 * (tracing off, or work started outside any span). Formatted here, not by the global propagator,
 * so that what the outbox stores does not depend on OTEL_PROPAGATORS.
 */
export function traceContextOf(ctx: Context = context.active()): StoredTraceContext {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return { traceparent: null, tracestate: null };
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
    tracestate: spanContext.traceState?.serialize() || null,
  };
}

/** The context to parent work on a stored trace context: the root context when none was stored. */
export function contextFromStored(stored: Partial<StoredTraceContext> | undefined): Context {
  const spanContext = spanContextFromTraceparent(stored?.traceparent, stored?.tracestate);
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

/** Runs `fn` in a span that continues the trace carried by the message headers. */
export async function withConsumerSpan<T>(
  name: string,
  headers: HeaderCarrier | undefined,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `fn` in an internal or producer span of the current trace. */
export async function withSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode };
