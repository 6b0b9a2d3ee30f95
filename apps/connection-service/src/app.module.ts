import { Module, type DynamicModule } from '@nestjs/common';

import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import type { ConnectionConfig } from './config/connection-service.config';
import { ConnectionModule } from './connection/connection.module';
import { dataSourceSettings } from './persistence/data-source';

@Module({})
export class AppModule {
  static forRoot(config: ConnectionConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'connection-service',
          logger,
          coreApiToken: config.CORE_API_TOKEN,
          adminApiToken: config.ADMIN_API_TOKEN,
          database: dataSourceSettings(config),
          // Credentials, TLS CA and JETSTREAM_* too (the chart mounts them for every app).
          nats: natsFromConfig(config),
          outbox: true,
        }),
        ConnectionModule.forRoot(config),
      ],
    };
  }
}
