import { createLogger, startHttpApp } from '@testkase/platform';

import { AppModule } from './app.module';
import type { ConnectionConfig } from './config/connection-service.config';

export async function bootstrap(config: ConnectionConfig): Promise<void> {
  const logger = createLogger({ service: 'connection-service', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      service: 'connection-service',
      description:
        'Connects TestKase projects to GitLab projects: token checks and encryption, webhook registration, credentials and connection health.',
      logger,
      port: config.PORT,
      host: config.HOST,
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
