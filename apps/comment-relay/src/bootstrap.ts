import { createLogger, startHttpApp } from '@testkase/platform';

import { AppModule } from './app.module';
import type { CommentRelayConfig } from './config/comment-relay.config';

export async function bootstrap(config: CommentRelayConfig): Promise<void> {
  const logger = createLogger({ service: 'comment-relay', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      service: 'comment-relay',
      description:
        'Maintains the linked-test-case comment on GitLab issues and relays defect comments both ways.',
      logger,
      port: config.PORT,
      host: config.HOST,
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
