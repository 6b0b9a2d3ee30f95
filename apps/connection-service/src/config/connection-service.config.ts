import { IsBoolean, IsInt, IsNotEmpty, IsString, IsUrl, Matches, Max, Min } from 'class-validator';

import { ServiceConfig, ToBoolean, ToDurationMs, ToInteger, ToList } from '@testkase/platform/config';

import { IsKeyRing } from './key-ring.validator';

/** Environment of connection-service (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class ConnectionConfig extends ServiceConfig {
  override PORT = 3001;

  @Min(0)
  @Max(65535)
  @IsInt()
  @ToInteger()
  GRPC_PORT = 5001;

  /** Bearer token TestKase core presents on the HTTP and gRPC APIs. Required. */
  @IsNotEmpty({ message: 'is required (the bearer token TestKase core uses)' })
  @IsString()
  CORE_API_TOKEN = '';

  /** `keyId:base64key,…` (32-byte keys): the first encrypts GitLab tokens, all decrypt. Required. */
  @IsKeyRing()
  TOKEN_ENCRYPTION_KEYS = '';

  /** Where GitLab reaches the webhook gateway; hooks point at `<this>/webhooks/gitlab/:connectionId`. */
  @Matches(/^[^?#]*[^/?#]$/, { message: 'must not end with / or carry a query or fragment' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_WEBHOOK_BASE_URL = 'http://127.0.0.1:3000';

  /** Instance hosts exempt from the address check (`gitlab.internal`, `*.corp.example`). */
  @ToList()
  @IsString({ each: true })
  GITLAB_ALLOWED_HOSTS: string[] = [];

  /** Admit loopback, RFC 1918, link-local, CGNAT and unique-local instance addresses. */
  @ToBoolean()
  @IsBoolean()
  GITLAB_ALLOW_PRIVATE_NETWORK = false;

  /** Per-attempt timeout of a GitLab API call (`10s`, `15000`). */
  @Min(1_000)
  @Max(120_000)
  @IsInt({ message: 'must be a duration such as 10s or 15000 (ms)' })
  @ToDurationMs()
  GITLAB_REQUEST_TIMEOUT = 10_000;

  /** How often every connection's hook and token are checked (`5m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 5m, 30s or 300000 (ms)' })
  @ToDurationMs()
  HEALTH_CHECK_INTERVAL: number = 5 * 60_000;
}
