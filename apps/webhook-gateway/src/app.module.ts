import { Module, type DynamicModule } from '@nestjs/common';

import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import type { GatewayConfig } from './config/webhook-gateway.config';
import { dataSourceSettings } from './persistence/data-source';
import { WebhookModule } from './webhook/webhook.module';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'webhook-gateway',
          adminApiToken: config.ADMIN_API_TOKEN,
          logger,
          // The database is only the spool: the gateway starts and serves without it.
          database: { ...dataSourceSettings(config), optional: true },
          nats: natsFromConfig(config),
          outbox: false,
          // Ready while it can make a delivery durable somewhere: JetStream, or else the spool. Taking
          // a gateway that can still spool out of rotation would turn GitLab's deliveries into
          // failures, and GitLab neither retries them nor keeps a hook that fails.
          readiness: 'any',
        }),
        WebhookModule.forRoot(config),
      ],
    };
  }
}
