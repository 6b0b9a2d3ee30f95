import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
} from 'class-validator';

import { ToBoolean, ToDurationMs, ToInteger, ToList } from './config-decorators';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables every HTTP app reads (docs/ARCHITECTURE.md, "Configuration"). */
export class HttpAppConfig {
  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string = undefined;
}

/** Apps with a database and NATS. */
export class ServiceConfig extends HttpAppConfig {
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/testkase_gitlab';

  @Min(1)
  @Max(200)
  @IsInt()
  @ToInteger()
  DB_POOL_SIZE: number = 10;

  @Matches(/^(nats|tls|ws|wss):\/\/\S+(,\s*(nats|tls|ws|wss):\/\/\S+)*$/, {
    message: 'must be one or more nats:// URLs separated by commas',
  })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /**
   * Prefixes every stream name and subject, so that several isolated environments (test files,
   * preview deployments) can share one NATS server. Empty in production.
   */
  @Matches(/^$|^[A-Za-z0-9_-]{1,32}$/, { message: 'must be empty or up to 32 letters, digits, _ or -' })
  NATS_PREFIX: string = '';

  /** NATS credentials file (JWT + NKey seed) of this service; the chart mounts one per service. */
  @IsOptional()
  @IsString()
  NATS_CREDS_FILE?: string = undefined;

  /** CA bundle to verify the NATS server's TLS certificate (tls:// URLs). */
  @IsOptional()
  @IsString()
  NATS_TLS_CA_FILE?: string = undefined;
}

/** Services that TestKase core calls and that call GitLab on behalf of a connection. */
export class CoreServiceConfig extends ServiceConfig {
  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  GRPC_PORT: number = 5000;

  /** Bearer token TestKase core presents on the HTTP and gRPC APIs. Required. */
  @IsNotEmpty({ message: 'is required (the bearer token TestKase core uses)' })
  @IsString()
  CORE_API_TOKEN: string = '';

  /** Self-hosted GitLab hosts that may resolve to private addresses (exact or `*.example.com`). */
  @IsString({ each: true })
  @ToList()
  GITLAB_ALLOWED_HOSTS: string[] = [];

  /** Allow every private address (local development and tests only). */
  @IsBoolean()
  @ToBoolean()
  GITLAB_ALLOW_PRIVATE_NETWORK: boolean = false;

  /** Per-attempt timeout of a GitLab API call (`15s`, `15000`). */
  @Min(1_000)
  @Max(120_000)
  @IsInt({ message: 'must be a duration such as 15s or 15000 (ms)' })
  @ToDurationMs()
  GITLAB_REQUEST_TIMEOUT: number = 15_000;
}
