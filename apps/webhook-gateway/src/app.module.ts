import { Module, type DynamicModule } from '@nestjs/common';

import { STREAMS } from '@testkase/contracts';
import { PlatformModule, type Logger } from '@testkase/platform';

import type { GatewayConfig } from './config/webhook-gateway.config';
import { dataSourceSettings } from './persistence/data-source';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'webhook-gateway',
          logger,
          database: dataSourceSettings(config),
          nats: { url: config.NATS_URL, prefix: config.NATS_PREFIX, streams: Object.values(STREAMS) },
          outbox: false,
        }),
      ],
    };
  }
}
