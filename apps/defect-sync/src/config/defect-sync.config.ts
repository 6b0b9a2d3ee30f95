import { CoreServiceConfig } from '@testkase/platform/config';

/** Environment of defect-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class DefectSyncConfig extends CoreServiceConfig {
  override PORT: number = 3003;
  override GRPC_PORT: number = 5003;
}
