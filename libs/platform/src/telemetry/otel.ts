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
import path from 'node:path';

import type { NodeSDK, tracing } from '@opentelemetry/sdk-node';

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

/**
 * Starts the OpenTelemetry SDK with the http, grpc, undici, Nest and pg instrumentations when
 * {@link tracingEnabled}; otherwise loads none of it. The SDK, its configuration schema and the
 * instrumentations are about 1.7 MB of JavaScript kept in every process's heap (the schema's
 * validator alone 1.4 MiB; docs/RUNBOOK.md, "Memory"), so they are required here, when tracing is
 * on, and not imported at the top of this file.
 */
export function startTracing(settings: TracingSettings): NodeSDK | undefined {
  if (!tracingEnabled(settings)) return undefined;
  const sdk = require('./otel-sdk') as typeof import('./otel-sdk');
  return sdk.startSdk(settings, packageVersion());
}

export {
  markUntrustedCarrier,
  untrustedIngressPropagator,
  untrustedInboundLink,
  withIngressSpan,
} from './ingress';
