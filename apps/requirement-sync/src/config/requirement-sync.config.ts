import { IsInt, Max, Min } from 'class-validator';

import { GitlabConsumerConfig } from '@testkase/consumer-kit/config';
import { ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of requirement-sync (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class RequirementSyncConfig extends GitlabConsumerConfig {
  override PORT = 3002;

  override GRPC_PORT = 5002;

  /**
   * How often a `webhook_manual` connection from which no webhook delivery has arrived yet is
   * polled for changed issues (`15s`), instead of every RECONCILE_INTERVAL_MANUAL: a user who never
   * adds the hook still sees an edit within seconds. Each poll is one incremental sweep (usually one
   * request) through the token's client-side rate limiter, like every other call (docs/ARCHITECTURE.md,
   * "Configuration added").
   */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 15s or 15000 (ms)' })
  @ToDurationMs()
  POLL_INTERVAL_NO_HOOK = 15_000;

  /** At most one backfill progress event per connection per this interval (`2s`). */
  @Min(100)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  BACKFILL_PROGRESS_INTERVAL = 2_000;

  /**
   * A backfill job gives its slot back after this long (it goes on from its checkpoint in a later
   * job), so that many connections' backfills take turns, the smallest remaining first (`2s`, at
   * least 100 ms; apps/requirement-sync/README.md, "Backfill").
   */
  @Min(100)
  @Max(3_600_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  BACKFILL_SLICE = 2_000;

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

  /**
   * How often each connection's requirements are checked for deleted issues (`1h`): GitLab sends no
   * event for a deletion. One `issues_statistics` request per 100 iids; only a batch whose count
   * falls short is listed (docs/GITLAB.md, "Moved, deleted and retyped issues").
   */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 1h or 3600000 (ms)' })
  @ToDurationMs()
  DELETION_CHECK_INTERVAL: number = 3_600_000;

  /**
   * How far ahead of this service's clock a GitLab `updated_at` may be and still order changes
   * (`2m`). A later time (a GitLab clock that jumped, a crafted delivery) is distrusted: the issue
   * is read from GitLab instead, and such a stored time never holds back a later change.
   */
  @Min(0)
  @IsInt({ message: 'must be a duration such as 2m or 120000 (ms)' })
  @ToDurationMs()
  GITLAB_CLOCK_SKEW: number = 2 * 60_000;
}
