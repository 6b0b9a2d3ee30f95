import { GRPC_SERVICES } from '@testkase/contracts';
import { createLogger, startHttpApp } from '@testkase/platform';
import { grpcTlsOf, httpExposureOf } from '@testkase/platform/config';

import { AppModule } from './app.module';
import type { DefectSyncConfig } from './config/defect-sync.config';

/** Largest body: a 4,000,000-character description (up to 4 bytes each in UTF-8) and JSON around it. */
const BODY_LIMIT = 17 * 1024 * 1024;

/** The HTTP API's OpenAPI title and description (also tools/openapi-export.js). */
export const API_INFO = {
  service: 'defect-sync',
  description:
    'Pushes TestKase defects to GitLab issues and keeps title, description, status and priority in sync both ways.',
};

export async function bootstrap(config: DefectSyncConfig): Promise<void> {
  const logger = createLogger({ service: 'defect-sync', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      ...API_INFO,
      logger,
      port: config.PORT,
      host: config.HOST,
      ...httpExposureOf(config),
      bodyLimit: BODY_LIMIT,
      // Long enough that an over-long projectId or defectId reaches validation (VALIDATION_FAILED), not a 404.
      maxParamLength: 2_048,
      grpc: {
        port: config.GRPC_PORT,
        ...GRPC_SERVICES.defects,
        tls: grpcTlsOf(config),
        reflection: config.GRPC_REFLECTION,
      },
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
