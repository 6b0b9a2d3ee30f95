import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';

import { ServiceConfig, ToInteger } from '@testkase/platform/config';

/** Environment of requirement-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class RequirementSyncConfig extends ServiceConfig {
  override PORT: number = 3002;

  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  GRPC_PORT: number = 5002;

  /** Bearer token TestKase core presents on the HTTP and gRPC APIs. Required. */
  @IsNotEmpty({ message: 'is required (the bearer token TestKase core uses)' })
  @IsString()
  CORE_API_TOKEN: string = '';
}
