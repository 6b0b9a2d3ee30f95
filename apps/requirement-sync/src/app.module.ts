import { Module, type DynamicModule } from '@nestjs/common';

import { ConsumerKitModule } from '@testkase/consumer-kit';
import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import { REQUIREMENT_SYNC_CONFIG } from './config/config.token';
import type { RequirementSyncConfig } from './config/requirement-sync.config';
import { ConnectionLifecycleService } from './connections/connection-lifecycle.service';
import { ConnectionRepository, LOCK_NAMESPACE } from './connections/connection.repository';
import { DeliveriesSeenHandler } from './connections/deliveries-seen.handler';
import { DefectEventsHandler } from './defects/defect-events.handler';
import { SyncMetrics } from './metrics/sync.metrics';
import { dataSourceSettings } from './persistence/data-source';
import { SCHEMA } from './persistence/schema';
import { RequirementRepository } from './requirements/requirement.repository';
import { RequirementsController } from './requirements/requirements.controller';
import { RequirementsGrpcController } from './requirements/requirements.grpc.controller';
import { RequirementsService } from './requirements/requirements.service';
import { BackfillRunner } from './sync/backfill.runner';
import { DeletionCheckRunner } from './sync/deletion-check.runner';
import { HeldIssuesRunner } from './sync/held-issues.runner';
import { IssueFateReader } from './sync/issue-fate.reader';
import { IssuePageWriter } from './sync/issue-page.writer';
import { SweepRunner } from './sync/sweep.runner';
import { SyncScheduler } from './sync/sync-scheduler.service';
import { IssueEventApplier } from './webhooks/issue-event.applier';
import { IssueEventBatcher } from './webhooks/issue-event.batcher';
import { IssueEventsHandler } from './webhooks/issue-events.handler';
import { IssueRefetches } from './webhooks/issue-refetches';

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
          adminApiToken: config.ADMIN_API_TOKEN,
          database: dataSourceSettings(config),
          nats: natsFromConfig(config),
          outbox: true,
        }),
        ConsumerKitModule.forRoot({
          service: 'requirement-sync',
          schema: SCHEMA,
          config,
          locks: LOCK_NAMESPACE,
        }),
      ],
      controllers: [RequirementsController, RequirementsGrpcController],
      providers: [
        { provide: REQUIREMENT_SYNC_CONFIG, useValue: config },
        SyncMetrics,
        ConnectionRepository,
        RequirementRepository,
        IssuePageWriter,
        BackfillRunner,
        SweepRunner,
        HeldIssuesRunner,
        IssueFateReader,
        DeletionCheckRunner,
        SyncScheduler,
        ConnectionLifecycleService,
        IssueEventApplier,
        IssueEventBatcher,
        IssueRefetches,
        IssueEventsHandler,
        DefectEventsHandler,
        DeliveriesSeenHandler,
        RequirementsService,
      ],
    };
  }
}
