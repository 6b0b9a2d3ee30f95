/**
 * OpenTelemetry bootstrap. Import and call {@link startTracing} before anything else in an app's
 * main.ts so that the http, undici and pg modules are instrumented when they are first loaded.
 * Without an OTLP endpoint nothing would be recorded, and the instrumentation alone costs a hot
 * HTTP route about a fifth of its CPU (bench/RESULTS.md, webhook-gateway), so nothing is loaded.
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

export function startTracing(settings: TracingSettings): NodeSDK | undefined {
  const exporter =
    settings.exporter ??
    (settings.otlpEndpoint
      ? new OTLPTraceExporter({ url: `${settings.otlpEndpoint.replace(/\/$/, '')}/v1/traces` })
      : undefined);
  if (!exporter) return undefined;
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    autoDetectResources: false,
    sampler: new tracing.ParentBasedSampler({ root: new tracing.AlwaysOnSampler() }),
    spanProcessors: [
      settings.exporter
        ? new tracing.SimpleSpanProcessor(exporter)
        : new tracing.BatchSpanProcessor(exporter),
    ],
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
