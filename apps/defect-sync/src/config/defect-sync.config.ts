import { IsInt, Max, Min } from 'class-validator';

import { LaneConsumerConfig } from '@testkase/consumer-kit/config';
import { ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of defect-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class DefectSyncConfig extends LaneConsumerConfig {
  override PORT: number = 3003;

  override GRPC_PORT: number = 5003;

  /** How long a push waits for GitLab before it answers 202 `pending` (`2s`). */
  @Min(0)
  @Max(30_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  PUSH_WAIT = 2_000;

  /** GitLab issue events in hand at once per replica (`32`). */
  @Min(1)
  @Max(1_000)
  @IsInt()
  @ToInteger()
  ISSUE_EVENTS_CONCURRENCY = 32;
}
