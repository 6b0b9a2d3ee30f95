/**
 * OpenTelemetry bootstrap. Import and call {@link startTracing} before anything else in an app's
 * main.ts so that the http, undici and pg modules are instrumented when they are first loaded.
 * Without an OTLP endpoint, spans are not recorded (ParentBased(AlwaysOff)) but the W3C trace
 * context still flows: a `traceparent` received over HTTP is carried into NATS and on.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';

export interface TracingSettings {
  serviceName: string;
  otlpEndpoint?: string;
  /** Tests inject an exporter (e.g. the in-memory one) instead of OTLP. */
  exporter?: tracing.SpanExporter;
}

const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

export function startTracing(settings: TracingSettings): NodeSDK {
  const exporter =
    settings.exporter ??
    (settings.otlpEndpoint
      ? new OTLPTraceExporter({ url: `${settings.otlpEndpoint.replace(/\/$/, '')}/v1/traces` })
      : undefined);
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    autoDetectResources: false,
    sampler: new tracing.ParentBasedSampler({
      root: exporter ? new tracing.AlwaysOnSampler() : new tracing.AlwaysOffSampler(),
    }),
    spanProcessors: exporter
      ? [
          settings.exporter
            ? new tracing.SimpleSpanProcessor(exporter)
            : new tracing.BatchSpanProcessor(exporter),
        ]
      : [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => QUIET_PATHS.includes((request.url ?? '').split('?')[0] ?? ''),
      }),
      new UndiciInstrumentation(),
      new NestInstrumentation(),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return sdk;
}
