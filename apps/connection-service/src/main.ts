/**
 * Entry point of connection-service. Tracing starts before the rest of the app is loaded so that http, undici
 * and pg are instrumented from their first use.
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { ConnectionConfig } from './config/connection-service.config';

const config = loadConfigOrExit(ConnectionConfig, 'connection-service');
startTracing({ serviceName: 'connection-service', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
