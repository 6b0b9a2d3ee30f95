import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  registerDecorator,
  ValidateIf,
} from 'class-validator';

import { IsTrustProxy, ToBoolean, ToDurationMs, ToInteger, ToList, ToTrustProxy } from './config-decorators';
import { IsPemFile } from './file-validators';

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

/** HTTP apps started by the platform's bootstrap (startHttpApp): what they expose, whom they trust. */
export class ExposedHttpAppConfig extends HttpAppConfig {
  /** `production` (the container image sets it) turns `/docs` off unless API_DOCS says otherwise. */
  @IsOptional()
  @Matches(/^[a-z]{1,32}$/, { message: 'must be a lower-case word such as production or development' })
  NODE_ENV?: string = undefined;

  /** Serve the OpenAPI page at `/docs` (and `/docs/json`). Default: on, off when NODE_ENV=production. */
  @IsOptional()
  @IsBoolean()
  @ToBoolean()
  API_DOCS?: boolean = undefined;

  /**
   * Whom to believe `X-Forwarded-For` / `-Proto` / `-Host` from: `false` (default: nobody, the
   * client is the TCP peer), `true` (anyone: only behind a proxy that overwrites them), a number of
   * proxy hops, or a comma-separated list of proxy addresses and CIDRs (`loopback`, `linklocal`,
   * `uniquelocal` also allowed).
   */
  @IsTrustProxy()
  @ToTrustProxy()
  TRUST_PROXY: TrustProxy = false;
}

/** Fastify's `trustProxy` (docs/ARCHITECTURE.md, "Configuration added"). */
export type TrustProxy = boolean | number | string[];

/** What an HTTP app exposes, from its config (HttpAppSettings). */
export const httpExposureOf = (
  config: Pick<ExposedHttpAppConfig, 'API_DOCS' | 'NODE_ENV' | 'TRUST_PROXY'>,
): { apiDocs: boolean; trustProxy: TrustProxy } => ({
  apiDocs: config.API_DOCS ?? config.NODE_ENV !== 'production',
  trustProxy: config.TRUST_PROXY,
});

/** Apps with a database and NATS. */
export class ServiceConfig extends ExposedHttpAppConfig {
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

  /** Replicas of the streams and KV buckets this service creates (3 in production; docs/RUNBOOK.md). */
  @Min(1)
  @Max(5)
  @IsInt()
  @ToInteger()
  JETSTREAM_REPLICAS: number = 1;

  /** Limit of each stream and bucket in bytes when created; -1: none. */
  @Min(-1)
  @IsInt()
  @ToInteger()
  JETSTREAM_MAX_BYTES: number = -1;

  /** Retention (max_age) of every stream when created (`168h`); empty: each stream's own. */
  @IsOptional()
  @Min(60_000, { message: 'must be a duration of at least 1m such as 168h' })
  @IsInt({ message: 'must be a duration such as 168h or 604800000 (ms)' })
  @ToDurationMs()
  JETSTREAM_MAX_AGE?: number = undefined;

  /**
   * `true`: the service creates missing streams and buckets at start. `false`: they are managed by
   * `setup-jetstream` (the chart's hook Job) and the service only looks them up, so it needs no
   * stream-admin rights.
   */
  @IsBoolean()
  @ToBoolean()
  JETSTREAM_MANAGE: boolean = true;

  /**
   * Bearer tokens of the admin API (`/admin/v1/...`, docs/ADMIN-API.md), comma-separated like
   * CORE_API_TOKEN; unset or empty turns the admin routes off (404). None may also be a core token:
   * each token opens one API only. Problems are reported without the value.
   */
  @IsNotCoreToken()
  @MinLength(16, { each: true, message: 'has a token shorter than 16 characters' })
  @MaxLength(512, { each: true, message: 'has a token longer than 512 characters' })
  @Matches(/^[\x21-\x7e]+$/, {
    each: true,
    message: 'must be tokens of printable ASCII without spaces, separated by commas',
  })
  @ArrayMaxSize(8, { message: 'must list at most 8 tokens' })
  @ToList()
  ADMIN_API_TOKEN: string[] = [];
}

/** ADMIN_API_TOKEN shares no token with CORE_API_TOKEN (the core token must never open the admin API). */
function IsNotCoreToken(): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isNotCoreToken',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'must not repeat a token of CORE_API_TOKEN (each token opens one API only)' },
      validator: {
        validate(value: unknown, args) {
          const core = (args?.object as { CORE_API_TOKEN?: unknown }).CORE_API_TOKEN;
          if (!Array.isArray(value) || !Array.isArray(core)) return true;
          return !value.some((token) => core.includes(token));
        },
      },
    });
  };
}

/** Services that TestKase core calls and that call GitLab on behalf of a connection. */
export class CoreServiceConfig extends ServiceConfig {
  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  GRPC_PORT: number = 5000;

  /**
   * Bearer tokens TestKase core may present on the HTTP and gRPC APIs, comma-separated; any of them
   * is accepted, so that a new token is rolled out before the old one is removed (rotation without
   * downtime). Required. Problems are reported without the value.
   */
  @MaxLength(512, { each: true, message: 'has a token longer than 512 characters' })
  @Matches(/^[\x21-\x7e]+$/, {
    each: true,
    message: 'must be tokens of printable ASCII without spaces, separated by commas',
  })
  @ArrayMaxSize(8, { message: 'must list at most 8 tokens' })
  @ArrayNotEmpty({ message: 'is required (the bearer token TestKase core uses; a list while rotating)' })
  @ToList()
  CORE_API_TOKEN: string[] = [];

  /** gRPC serves TLS with this PEM certificate (chain) and key; both or neither (plaintext). */
  @IsPemFile('certificate')
  @IsString({ message: 'must be set together with GRPC_TLS_KEY_FILE' })
  @ValidateIf((config: CoreServiceConfig) => Boolean(config.GRPC_TLS_CERT_FILE || config.GRPC_TLS_KEY_FILE))
  GRPC_TLS_CERT_FILE?: string = undefined;

  @IsPemFile('private key')
  @IsString({ message: 'must be set together with GRPC_TLS_CERT_FILE' })
  @ValidateIf((config: CoreServiceConfig) => Boolean(config.GRPC_TLS_CERT_FILE || config.GRPC_TLS_KEY_FILE))
  GRPC_TLS_KEY_FILE?: string = undefined;

  /** Serve gRPC server reflection (grpc.reflection.v1 / v1alpha) for tools such as grpcurl. Off by default. */
  @IsBoolean()
  @ToBoolean()
  GRPC_REFLECTION: boolean = false;

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

/** The TLS files of the gRPC server, if configured (HttpAppSettings.grpc.tls). */
export const grpcTlsOf = (
  config: Pick<CoreServiceConfig, 'GRPC_TLS_CERT_FILE' | 'GRPC_TLS_KEY_FILE'>,
): { certFile: string; keyFile: string } | undefined =>
  config.GRPC_TLS_CERT_FILE && config.GRPC_TLS_KEY_FILE
    ? { certFile: config.GRPC_TLS_CERT_FILE, keyFile: config.GRPC_TLS_KEY_FILE }
    : undefined;
