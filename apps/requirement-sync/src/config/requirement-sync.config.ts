import { IsIn, IsInt, Max, Min } from 'class-validator';

import { CoreServiceConfig, ToDurationMs, ToInteger } from '@testkase/platform/config';

export const RATE_LIMIT_PRESETS = ['auto', 'gitlab.com', 'self-managed'] as const;
export type RateLimitPreset = (typeof RATE_LIMIT_PRESETS)[number];

/** Environment of requirement-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class RequirementSyncConfig extends CoreServiceConfig {
  override PORT = 3002;

  override GRPC_PORT = 5002;

  /**
   * Client-side request budget per token: `gitlab.com` (2,000/min), `self-managed` (none: GitLab's
   * throttles ship disabled), or `auto` (gitlab.com for gitlab.com, self-managed otherwise). GitLab's
   * own RateLimit-* and Retry-After headers are honoured in every case.
   */
  @IsIn(RATE_LIMIT_PRESETS)
  GITLAB_RATE_LIMITS: RateLimitPreset = 'auto';

  /** Incremental reconciliation of `webhook_managed` connections (`5m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 5m, 30s or 300000 (ms)' })
  @ToDurationMs()
  RECONCILE_INTERVAL: number = 5 * 60_000;

  /** Incremental reconciliation of `webhook_manual` connections, whose hook we cannot watch (`1m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 1m, 30s or 60000 (ms)' })
  @ToDurationMs()
  RECONCILE_INTERVAL_MANUAL = 60_000;

  /** How far before the last watermark an incremental sweep starts (clock skew, slow commits). */
  @Min(0)
  @IsInt({ message: 'must be a duration such as 10m or 600000 (ms)' })
  @ToDurationMs()
  RECONCILE_SAFETY_MARGIN: number = 10 * 60_000;

  /** Full sweep that also finds deleted or moved issues (`24h`). */
  @Min(10_000)
  @IsInt({ message: 'must be a duration such as 24h or 86400000 (ms)' })
  @ToDurationMs()
  FULL_SWEEP_INTERVAL: number = 24 * 3_600_000;

  /** How often each replica looks for due backfills and sweeps (`1s`). */
  @Min(100)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 1s or 1000 (ms)' })
  @ToDurationMs()
  SYNC_SCHEDULER_TICK = 1_000;

  /** Backfills and sweeps one replica runs at once (each holds one database connection). */
  @Min(1)
  @Max(32)
  @IsInt()
  @ToInteger()
  SYNC_JOB_CONCURRENCY = 2;

  /** At most one backfill progress event per connection per this interval (`2s`). */
  @Min(100)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  BACKFILL_PROGRESS_INTERVAL = 2_000;

  /** After GitLab refused a token, wait this long before trying it again without a new connect event. */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 10m or 600000 (ms)' })
  @ToDurationMs()
  AUTH_RETRY_INTERVAL: number = 10 * 60_000;

  /** How long fetched credentials stay in memory (`60s`). Never written anywhere. */
  @Min(0)
  @Max(3_600_000)
  @IsInt({ message: 'must be a duration such as 60s or 60000 (ms)' })
  @ToDurationMs()
  CREDENTIALS_CACHE_TTL = 60_000;

  /** Timeout of the credentials request to connection-service (`3s`). */
  @Min(100)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 3s or 3000 (ms)' })
  @ToDurationMs()
  CREDENTIALS_TIMEOUT = 3_000;

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
