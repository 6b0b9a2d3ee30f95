/**
 * Entry point of defect-sync. Tracing starts before the rest of the app is loaded so that http, undici
 * and pg are instrumented from their first use.
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { DefectSyncConfig } from './config/defect-sync.config';

const config = loadConfigOrExit(DefectSyncConfig, 'defect-sync');
startTracing({ serviceName: 'defect-sync', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
