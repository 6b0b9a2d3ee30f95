import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import type { core } from '@opentelemetry/sdk-node';

import { spanContextFromTraceparent, tracer } from './tracing';

/**
 * Trace context that arrives on a public route (the gateway's webhooks) is set by GitLab or by
 * anyone who can reach the route: it must not decide whether a trace is sampled, nor join our
 * spans to someone else's trace (docs/ARCHITECTURE.md, "Telemetry"). Such a request starts a new
 * root; the inbound `traceparent`, when valid, is kept as a span link.
 */
const UNTRUSTED = new WeakSet<object>();

/** Marks a carrier (an incoming request's headers) whose trace context is not to be extracted. */
export function markUntrustedCarrier(carrier: object): void {
  UNTRUSTED.add(carrier);
}

export const isUntrustedCarrier = (carrier: unknown): boolean =>
  typeof carrier === 'object' && carrier !== null && UNTRUSTED.has(carrier);

/**
 * W3C trace context and baggage. The SDK is required here, not imported at the top: this module is
 * loaded with otel.ts in every app, the SDK only when tracing is on (docs/RUNBOOK.md, "Memory").
 */
function w3cPropagator(): TextMapPropagator {
  const sdk = require('@opentelemetry/sdk-node') as { core: typeof core };
  return new sdk.core.CompositePropagator({
    propagators: [new sdk.core.W3CTraceContextPropagator(), new sdk.core.W3CBaggagePropagator()],
  });
}

/** W3C trace context and baggage, except from carriers marked untrusted. */
export function untrustedIngressPropagator(inner: TextMapPropagator = w3cPropagator()): TextMapPropagator {
  return {
    inject: (ctx: Context, carrier: unknown, setter: TextMapSetter) => inner.inject(ctx, carrier, setter),
    extract: (ctx: Context, carrier: unknown, getter: TextMapGetter) =>
      isUntrustedCarrier(carrier) ? ctx : inner.extract(ctx, carrier, getter),
    fields: () => inner.fields(),
  };
}

type RawHeaders = Record<string, string | string[] | undefined>;

const headerValue = (headers: RawHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The link to the trace an untrusted request claimed to belong to, if it sent a valid traceparent. */
export function untrustedInboundLink(headers: RawHeaders): Link | undefined {
  const spanContext = spanContextFromTraceparent(
    headerValue(headers, 'traceparent'),
    headerValue(headers, 'tracestate'),
  );
  return spanContext ? { context: spanContext, attributes: { 'link.inbound': 'untrusted' } } : undefined;
}

/** Adds {@link untrustedInboundLink} to `span` when `headers` were marked untrusted. */
export function linkUntrustedTraceparent(span: Span, headers: RawHeaders): void {
  if (!isUntrustedCarrier(headers)) return;
  const link = untrustedInboundLink(headers);
  if (link) span.addLink(link);
}

/**
 * Runs `fn` in a SERVER span for an inbound request handled outside the HTTP instrumentation.
 * `trusted: false` (public routes): a new root linked to the inbound traceparent; `true`
 * (internal / core routes): the inbound traceparent is the parent.
 */
export async function withIngressSpan<T>(
  name: string,
  headers: RawHeaders,
  options: { trusted: boolean; attributes?: Record<string, string | number> },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  let parent: Context = ROOT_CONTEXT;
  const links: Link[] = [];
  if (options.trusted) {
    const spanContext = spanContextFromTraceparent(
      headerValue(headers, 'traceparent'),
      headerValue(headers, 'tracestate'),
    );
    if (spanContext) parent = trace.setSpanContext(ROOT_CONTEXT, spanContext);
  } else {
    const link = untrustedInboundLink(headers);
    if (link) links.push(link);
  }
  return tracer().startActiveSpan(
    name,
    { kind: SpanKind.SERVER, root: !options.trusted, links, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
