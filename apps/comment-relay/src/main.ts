/**
 * Entry point of comment-relay. Tracing starts before the rest of the app is loaded so that http, undici
 * and pg are instrumented from their first use.
 */
import { loadConfigOrExit } from '@testkase/platform/config';
import { startTracing } from '@testkase/platform/otel';

import { CommentRelayConfig } from './config/comment-relay.config';

const config = loadConfigOrExit(CommentRelayConfig, 'comment-relay');
startTracing({ serviceName: 'comment-relay', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

void import('./bootstrap.js').then(({ bootstrap }) => bootstrap(config));
