/**
 * Entry point of webhook-gateway. Tracing (when an OTLP endpoint is configured) starts before the
 * rest of the app is loaded so that http and pg are instrumented from their first use. The gateway
 * puts a W3C `traceparent` on every event either way: that of a new trace per webhook, never the
 * caller's (a public route: GitLab or anyone sets it; it is kept as a span link only).
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { GatewayConfig } from './config/webhook-gateway.config';

const config = loadConfigOrExit(GatewayConfig, 'webhook-gateway');
startTracing({
  serviceName: 'webhook-gateway',
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  untrustedIngress: (path) => path.startsWith('/webhooks/'),
});

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
