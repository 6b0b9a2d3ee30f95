import { Module, type DynamicModule } from '@nestjs/common';

import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import type { CommentRelayConfig } from './config/comment-relay.config';
import { dataSourceSettings } from './persistence/data-source';

@Module({})
export class AppModule {
  static forRoot(config: CommentRelayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'comment-relay',
          logger,
          coreApiToken: config.CORE_API_TOKEN,
          database: dataSourceSettings(config),
          nats: natsFromConfig(config),
          outbox: true,
        }),
      ],
    };
  }
}
