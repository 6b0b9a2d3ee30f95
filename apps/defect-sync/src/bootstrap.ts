import { createLogger, startHttpApp } from '@testkase/platform';

import { AppModule } from './app.module';
import type { DefectSyncConfig } from './config/defect-sync.config';

export async function bootstrap(config: DefectSyncConfig): Promise<void> {
  const logger = createLogger({ service: 'defect-sync', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      service: 'defect-sync',
      description:
        'Pushes TestKase defects to GitLab issues and keeps status and priority in sync both ways.',
      logger,
      port: config.PORT,
      host: config.HOST,
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
