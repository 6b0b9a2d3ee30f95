import type { FastifyInstance } from 'fastify';

import { createLogger, startHttpApp } from '@testkase/platform';
import { httpExposureOf } from '@testkase/platform/config';

import { AppModule } from './app.module';
import type { GatewayConfig } from './config/webhook-gateway.config';
import { GitlabWebhookController } from './webhook/gitlab-webhook.controller';

export async function bootstrap(config: GatewayConfig): Promise<void> {
  const logger = createLogger({ service: 'webhook-gateway', level: config.LOG_LEVEL });
  try {
    await startHttpApp(AppModule.forRoot(config, logger), {
      service: 'webhook-gateway',
      description: 'Receives GitLab webhooks, authenticates them and makes them durable on JetStream.',
      logger,
      port: config.PORT,
      host: config.HOST,
      ...httpExposureOf(config),
      configure: (app) =>
        app.get(GitlabWebhookController).register(app.getHttpAdapter().getInstance() as FastifyInstance),
    });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
}
