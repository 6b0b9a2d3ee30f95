/**
 * The OpenTelemetry SDK as startTracing (otel.ts) starts it when tracing is on; this module and
 * everything it imports are loaded only then (docs/RUNBOOK.md, "Memory").
 */
import type { IncomingMessage } from 'node:http';

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
import type { TracingSettings } from './otel';

const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

export function startSdk(settings: TracingSettings, version: string | undefined): NodeSDK {
  const env = settings.env ?? process.env;
  const exporter =
    settings.exporter ??
    // Without a url the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else ENDPOINT + /v1/traces.
    (env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
      ? new OTLPTraceExporter()
      : new OTLPTraceExporter({ url: `${(settings.otlpEndpoint ?? '').replace(/\/$/, '')}/v1/traces` }));
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
