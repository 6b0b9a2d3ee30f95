import { IsInt, Max, Min } from 'class-validator';

import { ToDurationMs, ToInteger } from '@testkase/platform/config';

import { GitlabConsumerConfig } from './gitlab-consumer.config';

/** What an app with a lane (defect-sync, comment-relay) reads besides GitlabConsumerConfig. */
export class LaneConsumerConfig extends GitlabConsumerConfig {
  /** GitLab writes one connection's lane sends at once (`4`). */
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
}
