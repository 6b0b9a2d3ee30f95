import { IsInt, Max, Min } from 'class-validator';

import { GitlabConsumerConfig } from '@testkase/consumer-kit/config';
import { ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of defect-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class DefectSyncConfig extends GitlabConsumerConfig {
  override PORT: number = 3003;

  override GRPC_PORT: number = 5003;

  /** How long a push waits for GitLab before it answers 202 `pending` (`2s`). */
  @Min(0)
  @Max(30_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  PUSH_WAIT = 2_000;

  /** GitLab writes (pushes, updates) one connection's lane sends at once (`4`). */
  @Min(1)
  @Max(64)
  @IsInt()
  @ToInteger()
  LANE_CONCURRENCY = 4;

  /** How long an idle lane keeps its connection's lease, waiting for more work (`2s`). */
  @Min(0)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  LANE_LINGER = 2_000;

  /** Connections one replica works for at once (each holds one database connection) (`4`). */
  override SYNC_JOB_CONCURRENCY = 4;

  /** Longest wait between retries of a failed GitLab write (`5m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 5m or 300000 (ms)' })
  @ToDurationMs()
  RETRY_MAX_INTERVAL: number = 5 * 60_000;

  /** GitLab issue events in hand at once per replica (`32`). */
  @Min(1)
  @Max(1_000)
  @IsInt()
  @ToInteger()
  ISSUE_EVENTS_CONCURRENCY = 32;
}
