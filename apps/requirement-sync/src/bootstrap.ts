import { GRPC_SERVICES } from '@testkase/contracts';
import { createLogger, startHttpApp } from '@testkase/platform';
import { grpcTlsOf, httpExposureOf } from '@testkase/platform/config';

import { AppModule } from './app.module';
import type { RequirementSyncConfig } from './config/requirement-sync.config';

/** The HTTP API's OpenAPI title and description (also tools/openapi-export.js). */
export const API_INFO = {
  service: 'requirement-sync',
  description:
    'Keeps every GitLab issue of a connected project equal to a TestKase requirement: backfill, real time, reconciliation.',
};

export async function bootstrap(config: RequirementSyncConfig): Promise<void> {
  const logger = createLogger({ service: 'requirement-sync', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      ...API_INFO,
      logger,
      port: config.PORT,
      host: config.HOST,
      ...httpExposureOf(config),
      grpc: {
        port: config.GRPC_PORT,
        ...GRPC_SERVICES.requirements,
        tls: grpcTlsOf(config),
        reflection: config.GRPC_REFLECTION,
      },
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
