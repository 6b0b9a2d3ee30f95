/**
 * Entry point of webhook-gateway. Tracing (when an OTLP endpoint is configured) starts before the
 * rest of the app is loaded so that http and pg are instrumented from their first use. The gateway
 * puts a W3C `traceparent` on every event either way (the caller's, or a new one).
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { GatewayConfig } from './config/webhook-gateway.config';

const config = loadConfigOrExit(GatewayConfig, 'webhook-gateway');
startTracing({ serviceName: 'webhook-gateway', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
