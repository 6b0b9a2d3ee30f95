import { IsInt, Max, Min } from 'class-validator';

import { ServiceConfig, ToDurationMs, ToInteger } from '@testkase/platform/config';

/** Environment of webhook-gateway (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class GatewayConfig extends ServiceConfig {
  override PORT = 3000;

  /**
   * How long a delivery waits for JetStream's ack before it is spooled to Postgres instead (`2s`).
   * Together with a spool write it must stay well under GitLab's 10 s webhook timeout.
   */
  @Min(100)
  @Max(8_000)
  @IsInt({ message: 'must be a duration such as 2s or 2000 (ms)' })
  @ToDurationMs()
  WEBHOOK_PUBLISH_TIMEOUT = 2_000;

  /** How long a spool write may take before the delivery is answered 503 (`3s`). */
  @Min(100)
  @Max(8_000)
  @IsInt({ message: 'must be a duration such as 3s or 3000 (ms)' })
  @ToDurationMs()
  WEBHOOK_SPOOL_WRITE_TIMEOUT = 3_000;

  /** Timeout of the request to connection-service for a connection the gateway has not seen (`300ms`). */
  @Min(50)
  @Max(5_000)
  @IsInt({ message: 'must be a duration such as 300ms' })
  @ToDurationMs()
  WEBHOOK_VERIFIER_LOOKUP_TIMEOUT = 300;

  /** How long "no such connection" is remembered before connection-service is asked again (`5s`). */
  @Min(0)
  @Max(300_000)
  @IsInt({ message: 'must be a duration such as 5s' })
  @ToDurationMs()
  WEBHOOK_UNKNOWN_CONNECTION_TTL = 5_000;

  /** Largest accepted gap between `webhook-timestamp` and the gateway's clock for signed hooks (`5m`). */
  @Min(1_000)
  @Max(3_600_000)
  @IsInt({ message: 'must be a duration such as 5m' })
  @ToDurationMs()
  WEBHOOK_SIGNATURE_TOLERANCE = 300_000;

  /** Period of the `integration.webhook.deliveries_seen` summary (`10s`). */
  @Min(100)
  @Max(3_600_000)
  @IsInt({ message: 'must be a duration such as 10s' })
  @ToDurationMs()
  DELIVERIES_SEEN_INTERVAL = 10_000;

  /** How often the spool relay looks for rows when nothing woke it (`1s`). */
  @Min(50)
  @Max(60_000)
  @IsInt({ message: 'must be a duration such as 1s' })
  @ToDurationMs()
  SPOOL_POLL_INTERVAL = 1_000;

  /** Spooled deliveries published per round trip of the relay. */
  @Min(1)
  @Max(5_000)
  @IsInt()
  @ToInteger()
  SPOOL_BATCH_SIZE = 200;
}
