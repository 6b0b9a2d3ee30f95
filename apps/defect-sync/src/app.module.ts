import { Module, type DynamicModule } from '@nestjs/common';

import { ConsumerKitModule, LaneSignals } from '@testkase/consumer-kit';
import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import { DEFECT_SYNC_CONFIG } from './config/config.token';
import type { DefectSyncConfig } from './config/defect-sync.config';
import { ConnectionLifecycleService } from './connections/connection-lifecycle.service';
import { LOCK_NAMESPACE, SweepStateRepository } from './connections/sweep-state.repository';
import { DefectRepository } from './defects/defect.repository';
import { DefectsController } from './defects/defects.controller';
import { DefectsGrpcController } from './defects/defects.grpc.controller';
import { DefectsService } from './defects/defects.service';
import { DefectJobs } from './lane/defect-jobs.service';
import { DefectLane } from './lane/defect-lane';
import { IssuePusher } from './lane/issue-pusher';
import { IssueWriter } from './lane/issue-writer';
import { PriorityLabels } from './lane/priority-labels';
import { Reconciler } from './lane/reconciler';
import { DefectMetrics } from './metrics/defect.metrics';
import { dataSourceSettings } from './persistence/data-source';
import { SCHEMA } from './persistence/schema';
import { GitlabChangeApplier } from './webhooks/gitlab-change.applier';
import { IssueEventsHandler } from './webhooks/issue-events.handler';

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
          adminApiToken: config.ADMIN_API_TOKEN,
          database: dataSourceSettings(config),
          nats: natsFromConfig(config),
          outbox: true,
        }),
        ConsumerKitModule.forRoot({ service: 'defect-sync', schema: SCHEMA, config, locks: LOCK_NAMESPACE }),
      ],
      controllers: [DefectsController, DefectsGrpcController],
      providers: [
        { provide: DEFECT_SYNC_CONFIG, useValue: config },
        DefectMetrics,
        DefectRepository,
        SweepStateRepository,
        LaneSignals,
        PriorityLabels,
        IssuePusher,
        IssueWriter,
        DefectLane,
        Reconciler,
        DefectJobs,
        GitlabChangeApplier,
        IssueEventsHandler,
        ConnectionLifecycleService,
        DefectsService,
      ],
    };
  }
}
