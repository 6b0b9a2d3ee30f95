/**
 * Entry point of webhook-gateway. With an OTLP endpoint, tracing starts before the rest of the app is
 * loaded so that http and pg are instrumented from their first use. Without one, nothing would be
 * recorded, and the instrumentation alone costs the webhook route about a fifth of its CPU time per
 * request (bench/RESULTS.md), so the gateway does not load it; it still puts a W3C `traceparent` on
 * every event (the caller's, or a new one).
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { GatewayConfig } from './config/webhook-gateway.config';

const config = loadConfigOrExit(GatewayConfig, 'webhook-gateway');
if (config.OTEL_EXPORTER_OTLP_ENDPOINT) {
  startTracing({ serviceName: 'webhook-gateway', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
}

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
