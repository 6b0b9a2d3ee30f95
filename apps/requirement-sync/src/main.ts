/**
 * Entry point of requirement-sync. Tracing starts before the rest of the app is loaded so that http, undici
 * and pg are instrumented from their first use.
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { RequirementSyncConfig } from './config/requirement-sync.config';

const config = loadConfigOrExit(RequirementSyncConfig, 'requirement-sync');
startTracing({ serviceName: 'requirement-sync', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
