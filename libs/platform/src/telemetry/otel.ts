/**
 * OpenTelemetry bootstrap. Import and call {@link startTracing} before anything else in an app's
 * main.ts so that the http, grpc, undici and pg modules are instrumented when they are first loaded.
 * Without an OTLP endpoint nothing would be recorded, and the instrumentation alone costs a hot
 * HTTP route about a fifth of its CPU (bench/RESULTS.md, webhook-gateway), so nothing is loaded.
 *
 * The standard variables are honoured (docs/ARCHITECTURE.md, "Telemetry"): `OTEL_SDK_DISABLED`,
 * `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`
 * and the `OTEL_EXPORTER_OTLP_*` (`_TRACES_`) endpoint, headers, timeout and compression, read by the
 * SDK and the exporter themselves; this file only supplies defaults.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

import { linkUntrustedTraceparent, markUntrustedCarrier, untrustedIngressPropagator } from './ingress';

export interface TracingSettings {
  /** The default `service.name`; `OTEL_SERVICE_NAME` wins when set. */
  serviceName: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` as the app's config read it. */
  otlpEndpoint?: string;
  /** Tests inject an exporter (e.g. the in-memory one) instead of OTLP. */
  exporter?: tracing.SpanExporter;
  /**
   * Paths of public routes (the gateway's webhooks): an inbound `traceparent` there is set by
   * GitLab or by anyone, so it neither parents nor samples the server span; it is kept as a link.
   */
  untrustedIngress?: (path: string) => boolean;
  /** The process environment (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

const truthy = (value: string | undefined) => /^(true|1|yes|on)$/i.test((value ?? '').trim());

/** The version of the nearest package.json above this file (the deployed image's, else the repo's). */
export function packageVersion(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const parsed = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        version?: unknown;
      };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // no package.json here: go up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Whether traces are exported at all: not disabled, and an exporter or an OTLP endpoint is set. */
export function tracingEnabled(settings: TracingSettings): boolean {
  const env = settings.env ?? process.env;
  if (truthy(env['OTEL_SDK_DISABLED'])) return false;
  if (settings.exporter) return true;
  if ((env['OTEL_TRACES_EXPORTER'] ?? '').trim() === 'none') return false;
  return Boolean(
    settings.otlpEndpoint || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
  );
}

export function startTracing(settings: TracingSettings): NodeSDK | undefined {
  const env = settings.env ?? process.env;
  if (!tracingEnabled(settings)) return undefined;
  const exporter =
    settings.exporter ??
    // Without a url the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else ENDPOINT + /v1/traces.
    (env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
      ? new OTLPTraceExporter()
      : new OTLPTraceExporter({ url: `${(settings.otlpEndpoint ?? '').replace(/\/$/, '')}/v1/traces` }));
  const version = packageVersion();
  const untrusted = settings.untrustedIngress;
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME (read by the env detector) is not overridden when it is set.
    ...(env['OTEL_SERVICE_NAME'] ? {} : { serviceName: settings.serviceName }),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      ...(version ? { [ATTR_SERVICE_VERSION]: version } : {}),
    }),
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; no host or process probing at start.
    resourceDetectors: [envDetector],
    // No `sampler`: the SDK reads OTEL_TRACES_SAMPLER / _ARG (default parentbased_always_on).
    textMapPropagator: untrustedIngressPropagator(),
    // Metrics are Prometheus' (prom-client, /metrics): no OTLP metrics reader.
    metricReaders: [],
    spanProcessors: [
      settings.exporter
        ? new tracing.SimpleSpanProcessor(exporter)
        : new tracing.BatchSpanProcessor(exporter),
    ],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => {
          const route = (request.url ?? '').split('?')[0] ?? '';
          if (QUIET_PATHS.includes(route)) return true;
          if (untrusted?.(route)) markUntrustedCarrier(request.headers);
          return false;
        },
        requestHook: (span, request) => {
          if (untrusted && 'headers' in request && !('setHeader' in request)) {
            linkUntrustedTraceparent(span, (request as IncomingMessage).headers);
          }
        },
      }),
      new GrpcInstrumentation(),
      new UndiciInstrumentation(),
      new NestInstrumentation(),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return sdk;
}

export {
  markUntrustedCarrier,
  untrustedIngressPropagator,
  untrustedInboundLink,
  withIngressSpan,
} from './ingress';
