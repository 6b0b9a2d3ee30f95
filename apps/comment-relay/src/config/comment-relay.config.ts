import { CoreServiceConfig } from '@testkase/platform/config';

/** Environment of comment-relay (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class CommentRelayConfig extends CoreServiceConfig {
  override PORT: number = 3004;
  override GRPC_PORT: number = 5004;
}
