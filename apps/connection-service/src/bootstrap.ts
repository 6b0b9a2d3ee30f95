import { GRPC_SERVICES } from '@testkase/contracts';
import { createLogger, startHttpApp } from '@testkase/platform';
import { grpcTlsOf, httpExposureOf } from '@testkase/platform/config';

import { AppModule } from './app.module';
import type { ConnectionConfig } from './config/connection-service.config';

/** Largest body: a 64 KiB CA certificate, a 2 KiB URL, a 512-character token and JSON around them. */
const BODY_LIMIT = 128 * 1024;

/** The HTTP API's OpenAPI title and description (also tools/openapi-export.js). */
export const API_INFO = {
  service: 'connection-service',
  description:
    'Connects TestKase projects to GitLab projects: token checks and encryption, webhook registration, credentials and connection health.',
};

export async function bootstrap(config: ConnectionConfig): Promise<void> {
  const logger = createLogger({ service: 'connection-service', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      ...API_INFO,
      logger,
      port: config.PORT,
      host: config.HOST,
      ...httpExposureOf(config),
      bodyLimit: BODY_LIMIT,
      // Long enough that an over-long projectId reaches validation (VALIDATION_FAILED), not a 404.
      maxParamLength: 2_048,
      grpc: {
        port: config.GRPC_PORT,
        ...GRPC_SERVICES.connection,
        tls: grpcTlsOf(config),
        reflection: config.GRPC_REFLECTION,
      },
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
