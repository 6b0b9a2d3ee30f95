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

  /** Incremental reconciliation of pushed issues, `webhook_managed` connections (`5m`, as requirements). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 5m, 30s or 300000 (ms)' })
  @ToDurationMs()
  RECONCILE_INTERVAL: number = 5 * 60_000;

  /** The same for `webhook_manual` connections, whose hook we cannot watch (`1m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 1m, 30s or 60000 (ms)' })
  @ToDurationMs()
  RECONCILE_INTERVAL_MANUAL = 60_000;

  /** How far before the last watermark an incremental sweep starts (`10m`). */
  @Min(0)
  @IsInt({ message: 'must be a duration such as 10m or 600000 (ms)' })
  @ToDurationMs()
  RECONCILE_SAFETY_MARGIN: number = 10 * 60_000;

  /** Full reconciliation of every pushed issue by iid (deleted issues, missed labels) (`24h`). */
  @Min(10_000)
  @IsInt({ message: 'must be a duration such as 24h or 86400000 (ms)' })
  @ToDurationMs()
  FULL_SWEEP_INTERVAL: number = 24 * 3_600_000;

  /** How often each replica looks for due lanes and sweeps (`1s`). */
  @Min(50)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 1s or 1000 (ms)' })
  @ToDurationMs()
  SYNC_SCHEDULER_TICK = 1_000;

  /** Connections one replica works for at once (each holds one database connection) (`4`). */
  @Min(1)
  @Max(64)
  @IsInt()
  @ToInteger()
  SYNC_JOB_CONCURRENCY = 4;

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
