import { Module, type DynamicModule } from '@nestjs/common';

import { ConnectionAdminController } from '../admin/connection-admin.controller';
import { ConnectionAdminService } from '../admin/connection-admin.service';
import type { ConnectionConfig } from '../config/connection-service.config';
import { GitlabClientFactory } from '../gitlab/gitlab-client.factory';
import { GitlabConnectionCheck } from '../gitlab/gitlab-connection-check';
import { HookManager } from '../gitlab/hook-manager';
import { ConnectionEventsHandlers } from '../health/connection-events.handlers';
import { ConnectionHealthJob } from '../health/connection-health.job';
import { ConnectionLookup } from '../messaging/connection-lookup.service';
import { RpcResponders } from '../messaging/rpc.responders';
import { VerifierStore } from '../messaging/verifier-store.adapter';
import { VerifierSync } from '../messaging/verifier-sync.service';
import { ConnectionRepository } from '../persistence/connection.repository';
import { HookRotationRepository } from '../persistence/hook-rotation.repository';
import { tokenCipherProvider } from '../shared/token-cipher.provider';
import { CONNECTION_CONFIG } from '../shared/tokens';
import { ConnectionStateWriter } from './connection-state.writer';
import { ConnectionController } from './connection.controller';
import { ConnectionGrpcController } from './connection.grpc.controller';
import { ConnectionService } from './connection.service';

/** Connections: the core API, GitLab checks and hooks, NATS responders and verifiers, health. */
@Module({})
export class ConnectionModule {
  static forRoot(config: ConnectionConfig): DynamicModule {
    return {
      module: ConnectionModule,
      controllers: [ConnectionController, ConnectionGrpcController, ConnectionAdminController],
      providers: [
        { provide: CONNECTION_CONFIG, useValue: config },
        tokenCipherProvider,
        ConnectionRepository,
        HookRotationRepository,
        ConnectionStateWriter,
        ConnectionService,
        GitlabClientFactory,
        GitlabConnectionCheck,
        HookManager,
        VerifierStore,
        VerifierSync,
        ConnectionLookup,
        RpcResponders,
        ConnectionEventsHandlers,
        ConnectionHealthJob,
        ConnectionAdminService,
      ],
    };
  }
}
