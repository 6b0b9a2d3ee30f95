import { IsInt, Max, Min } from 'class-validator';

import { GitlabConsumerConfig } from '@testkase/consumer-kit/config';
import { ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of requirement-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class RequirementSyncConfig extends GitlabConsumerConfig {
  override PORT = 3002;

  override GRPC_PORT = 5002;

  /** At most one backfill progress event per connection per this interval (`2s`). */
  @Min(100)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  BACKFILL_PROGRESS_INTERVAL = 2_000;

  /**
   * How long an issue carrying a defect marker that no pushed defect owns is kept out of the
   * requirements after GitLab created it (`2m`): defect-sync's events about the push may come after
   * the issue's webhook. After that, such an issue (a /clone, a pasted description) is a requirement.
   */
  @Min(0)
  @IsInt({ message: 'must be a duration such as 2m or 120000 (ms)' })
  @ToDurationMs()
  DEFECT_MARKER_GRACE: number = 2 * 60_000;

  /** A defect push in flight keeps issues with its marker out for at most this long (`1h`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 1h or 3600000 (ms)' })
  @ToDurationMs()
  DEFECT_PUSH_HOLD_MAX: number = 3_600_000;

  /** GitLab issue events in hand at once per replica and consumer (they are written in batches). */
  @Min(1)
  @Max(1_000)
  @IsInt()
  @ToInteger()
  ISSUE_EVENTS_CONCURRENCY = 64;

  /** Issue events written in one transaction at most. */
  @Min(1)
  @Max(1_000)
  @IsInt()
  @ToInteger()
  ISSUE_EVENTS_BATCH_SIZE = 100;

  /** Transactions of issue events written at once per replica (each holds a database connection). */
  @Min(1)
  @Max(64)
  @IsInt()
  @ToInteger()
  ISSUE_EVENTS_BATCH_PARALLELISM = 2;
}
