import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

import { ServiceConfig, ToDurationMs, ToInteger } from '@testkase/platform/config';

const MIB = 1024 * 1024;

/** Sizes as `512KiB`, `64MiB`, `2GiB` or a number of bytes → bytes. */
const ToBytes = (): PropertyDecorator =>
  Transform(({ value }) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)(KiB|MiB|GiB)?$/.exec(String(value));
    if (!match) return value;
    const factor = { KiB: 1024, MiB: MIB, GiB: 1024 * MIB }[match[2] ?? ''] ?? 1;
    return Number(match[1]) * factor;
  });

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

  /**
   * Bytes of request bodies one connection may have in flight (being received, published or
   * spooled) before its further deliveries are answered 503 (`64MiB`). GitLab counts a 503 as a
   * failed delivery toward disabling the hook (docs/GITLAB.md, "Webhook deliveries"), so this must
   * stay far above what a connection normally has in flight (a few KiB per delivery); at least one
   * body of GitLab's largest size (25 MiB).
   */
  @Min(25 * MIB)
  @Max(64 * 1024 * MIB)
  @IsInt({ message: 'must be a size such as 64MiB or a number of bytes' })
  @ToBytes()
  WEBHOOK_INFLIGHT_BYTES_PER_CONNECTION = 64 * MIB;

  /** Bytes of request bodies in flight for all connections together before deliveries are answered 503 (`256MiB`). */
  @Min(25 * MIB)
  @Max(64 * 1024 * MIB)
  @IsInt({ message: 'must be a size such as 256MiB or a number of bytes' })
  @ToBytes()
  WEBHOOK_INFLIGHT_BYTES = 256 * MIB;

  /** Bytes of parked deliveries (too large for NATS) kept per connection; more are answered 503 (`256MiB`). */
  @Min(1)
  @Max(1024 * 1024 * MIB)
  @IsInt({ message: 'must be a size such as 256MiB or a number of bytes' })
  @ToBytes()
  SPOOL_PARKED_MAX_BYTES_PER_CONNECTION = 256 * MIB;

  /**
   * Bytes of pending deliveries (spooled while JetStream could not take them) kept per connection;
   * more are answered 503 until the relay has drained some (`1GiB`: hours of a busy project's
   * deliveries), so that no tenant fills the database while NATS is down.
   */
  @Min(1)
  @Max(1024 * 1024 * MIB)
  @IsInt({ message: 'must be a size such as 1GiB or a number of bytes' })
  @ToBytes()
  SPOOL_PENDING_MAX_BYTES_PER_CONNECTION = 1024 * MIB;

  /** Bytes of parked deliveries kept for all connections together (`2GiB`). */
  @Min(1)
  @Max(1024 * 1024 * MIB)
  @IsInt({ message: 'must be a size such as 2GiB or a number of bytes' })
  @ToBytes()
  SPOOL_PARKED_MAX_BYTES = 2048 * MIB;

  /**
   * How long a parked delivery is kept before the relay leader deletes it (`168h`, seven days: as
   * long as GitLab's API shows the delivery for a resend, docs/GITLAB.md, "Project webhooks (REST)").
   */
  @Min(1_000)
  @Max(90 * 24 * 3_600_000)
  @IsInt({ message: 'must be a duration such as 168h' })
  @ToDurationMs()
  SPOOL_PARKED_RETENTION = 7 * 24 * 3_600_000;
}
