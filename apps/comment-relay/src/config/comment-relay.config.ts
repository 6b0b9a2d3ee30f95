import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';

import { ServiceConfig, ToInteger } from '@testkase/platform/config';

/** Environment of comment-relay (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class CommentRelayConfig extends ServiceConfig {
  override PORT: number = 3004;

  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  GRPC_PORT: number = 5004;

  /** Bearer token TestKase core presents on the HTTP and gRPC APIs. Required. */
  @IsNotEmpty({ message: 'is required (the bearer token TestKase core uses)' })
  @IsString()
  CORE_API_TOKEN: string = '';
}
