import { Module, type DynamicModule } from '@nestjs/common';

import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import type { DefectSyncConfig } from './config/defect-sync.config';
import { dataSourceSettings } from './persistence/data-source';

@Module({})
export class AppModule {
  static forRoot(config: DefectSyncConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'defect-sync',
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
