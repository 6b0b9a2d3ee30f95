import { IsInt, Max, Min } from 'class-validator';

import { LaneConsumerConfig } from '@testkase/consumer-kit/config';
import { ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of comment-relay (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class CommentRelayConfig extends LaneConsumerConfig {
  override PORT: number = 3004;

  override GRPC_PORT: number = 5004;

  /** How long a comment request waits for GitLab before it answers 202 `pending` (`2s`). */
  @Min(0)
  @Max(30_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  COMMENT_WAIT = 2_000;

  /** Quiet time after a link change before the linked-test-cases comment is written (`1s`). */
  @Min(0)
  @Max(600_000)
  @IsInt({ message: 'must be a duration such as 1s or 1000 (ms)' })
  @ToDurationMs()
  LINK_DEBOUNCE = 1_000;

  /** Longest a changing list waits for its comment, however often it changes (`10s`). */
  @Min(0)
  @Max(3_600_000)
  @IsInt({ message: 'must be a duration such as 10s or 10000 (ms)' })
  @ToDurationMs()
  LINK_MAX_DELAY = 10_000;

  /**
   * How long links and comments for a requirement or defect comment-relay has not heard of yet are
   * kept waiting for its first event before they fail with NOT_FOUND (`15m`).
   */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 15m or 900000 (ms)' })
  @ToDurationMs()
  TARGET_WAIT = 15 * 60_000;

  /** Issues whose notes an incremental sweep re-reads beyond the changed ones (deletions touch no issue) (`50`). */
  @Min(0)
  @Max(10_000)
  @IsInt()
  @ToInteger()
  NOTE_CHECK_BATCH = 50;

  /** GitLab note events in hand at once per replica (`32`). */
  @Min(1)
  @Max(1_000)
  @IsInt()
  @ToInteger()
  NOTE_EVENTS_CONCURRENCY = 32;
}
