import { Module, type DynamicModule } from '@nestjs/common';

import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from './config/config.token';
import type { RequirementSyncConfig } from './config/requirement-sync.config';
import { ConnectionEventsHandler } from './connections/connection-events.handler';
import { ConnectionLifecycleService } from './connections/connection-lifecycle.service';
import { ConnectionRepository } from './connections/connection.repository';
import { CredentialsProvider } from './connections/credentials.provider';
import { GitlabAccess } from './connections/gitlab-access.service';
import { SyncMetrics } from './metrics/sync.metrics';
import { dataSourceSettings } from './persistence/data-source';
import { RequirementRepository } from './requirements/requirement.repository';
import { RequirementsController } from './requirements/requirements.controller';
import { RequirementsGrpcController } from './requirements/requirements.grpc.controller';
import { RequirementsService } from './requirements/requirements.service';
import { BackfillRunner } from './sync/backfill.runner';
import { IssuePageWriter } from './sync/issue-page.writer';
import { SweepRunner } from './sync/sweep.runner';
import { SyncScheduler } from './sync/sync-scheduler.service';
import { IssueEventApplier } from './webhooks/issue-event.applier';
import { IssueEventBatcher } from './webhooks/issue-event.batcher';
import { IssueEventsHandler } from './webhooks/issue-events.handler';

@Module({})
export class AppModule {
  static forRoot(config: RequirementSyncConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'requirement-sync',
          logger,
          coreApiToken: config.CORE_API_TOKEN,
          database: dataSourceSettings(config),
          nats: natsFromConfig(config),
          outbox: true,
        }),
      ],
      controllers: [RequirementsController, RequirementsGrpcController],
      providers: [
        { provide: REQUIREMENT_SYNC_CONFIG, useValue: config },
        SyncMetrics,
        ConnectionRepository,
        RequirementRepository,
        CredentialsProvider,
        GitlabAccess,
        IssuePageWriter,
        BackfillRunner,
        SweepRunner,
        SyncScheduler,
        ConnectionLifecycleService,
        ConnectionEventsHandler,
        IssueEventApplier,
        IssueEventBatcher,
        IssueEventsHandler,
        RequirementsService,
      ],
    };
  }
}
