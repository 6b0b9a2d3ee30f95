import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

import { CoreServiceConfig, ToDurationMs, ToInteger } from '@testkase/platform/config';

export const RATE_LIMIT_PRESETS = ['auto', 'gitlab.com', 'self-managed'] as const;
export type RateLimitPreset = (typeof RATE_LIMIT_PRESETS)[number];

/**
 * What every service that consumes GitLab events and calls GitLab for a connection reads, besides
 * the core-service variables: the client-side rate-limit preset, the credentials request/reply, how
 * long a refused token is left alone, and the schedule of per-connection jobs and reconciliation.
 * See each app's `.env.example`.
 */
export class GitlabConsumerConfig extends CoreServiceConfig {
  /**
   * Client-side request budget per token: `gitlab.com` (2,000 requests, 200 issue and 60 note
   * creations a minute), `self-managed` (GitLab's throttles ship disabled; notes 300/min), or `auto`
   * (gitlab.com for gitlab.com, self-managed otherwise). GitLab's own RateLimit-* and Retry-After
   * headers are honoured in every case.
   */
  @IsIn(RATE_LIMIT_PRESETS)
  GITLAB_RATE_LIMITS: RateLimitPreset = 'auto';

  /**
   * Per-limit overrides of the preset, per token and minute (0 = no client-side limit): for an
   * instance whose admin changed GitLab's defaults (Admin > Settings > Network: "Notes rate limit",
   * "Issues rate limit", the authenticated API throttle). Apply to every instance.
   */
  @IsOptional()
  @Min(0)
  @Max(1_000_000)
  @IsInt()
  @ToInteger()
  GITLAB_RATE_LIMIT_REQUESTS_PER_MINUTE?: number = undefined;

  @IsOptional()
  @Min(0)
  @Max(1_000_000)
  @IsInt()
  @ToInteger()
  GITLAB_RATE_LIMIT_ISSUE_CREATES_PER_MINUTE?: number = undefined;

  @IsOptional()
  @Min(0)
  @Max(1_000_000)
  @IsInt()
  @ToInteger()
  GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE?: number = undefined;

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

  /** Full sweep that also finds deleted or moved issues (`24h`; a resync request runs one at once). */
  @Min(10_000)
  @IsInt({ message: 'must be a duration such as 24h or 86400000 (ms)' })
  @ToDurationMs()
  FULL_SWEEP_INTERVAL: number = 24 * 3_600_000;

  /** How often each replica looks for due per-connection jobs (backfills, sweeps, lanes) (`1s`). */
  @Min(50)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 1s or 1000 (ms)' })
  @ToDurationMs()
  SYNC_SCHEDULER_TICK = 1_000;

  /** Per-connection jobs one replica runs at once (each holds one database connection) (`2`). */
  @Min(1)
  @Max(32)
  @IsInt()
  @ToInteger()
  SYNC_JOB_CONCURRENCY = 2;
}
