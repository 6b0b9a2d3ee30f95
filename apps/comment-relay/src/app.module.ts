import { Module, type DynamicModule } from '@nestjs/common';

import { ConsumerKitModule, LaneSignals } from '@testkase/consumer-kit';
import { natsFromConfig, PlatformModule, type Logger } from '@testkase/platform';

import { CommentsController } from './api/comments.controller';
import { CommentsGrpcController } from './api/comments.grpc.controller';
import { LinksController } from './api/links.controller';
import { CommentRepository } from './comments/comment.repository';
import { CommentsService } from './comments/comments.service';
import type { CommentRelayConfig } from './config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from './config/config.token';
import { ConnectionLifecycleService } from './connections/connection-lifecycle.service';
import { LOCK_NAMESPACE, SweepStateRepository } from './connections/sweep-state.repository';
import { CommentLane } from './lane/comment-lane';
import { CommentWriter } from './lane/comment.writer';
import { LinkCommentWriter } from './lane/link-comment.writer';
import { Reconciler } from './lane/reconciler';
import { RelayJobs } from './lane/relay-jobs.service';
import { LinkRepository } from './links/link.repository';
import { LinksService } from './links/links.service';
import { RelayMetrics } from './metrics/relay.metrics';
import { NoteEventsHandler } from './notes/note-events.handler';
import { NoteRelay } from './notes/note-relay';
import { RelayedNoteRepository } from './notes/relayed-note.repository';
import { dataSourceSettings } from './persistence/data-source';
import { SCHEMA } from './persistence/schema';
import { TargetEventsHandler } from './targets/target-events.handler';
import { TargetRepository } from './targets/target.repository';

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
          adminApiToken: config.ADMIN_API_TOKEN,
          database: dataSourceSettings(config),
          nats: natsFromConfig(config),
          outbox: true,
        }),
        ConsumerKitModule.forRoot({
          service: 'comment-relay',
          schema: SCHEMA,
          config,
          locks: LOCK_NAMESPACE,
        }),
      ],
      controllers: [LinksController, CommentsController, CommentsGrpcController],
      providers: [
        { provide: COMMENT_RELAY_CONFIG, useValue: config },
        RelayMetrics,
        LaneSignals,
        TargetRepository,
        LinkRepository,
        CommentRepository,
        RelayedNoteRepository,
        SweepStateRepository,
        LinkCommentWriter,
        CommentWriter,
        CommentLane,
        NoteRelay,
        Reconciler,
        RelayJobs,
        TargetEventsHandler,
        NoteEventsHandler,
        ConnectionLifecycleService,
        LinksService,
        CommentsService,
      ],
    };
  }
}
