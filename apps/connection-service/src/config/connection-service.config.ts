import { IsInt, IsUrl, Matches, Min } from 'class-validator';

import { CoreServiceConfig, ToDurationMs } from '@testkase/platform/config';

import { IsKeyRing } from './key-ring.validator';

/** Environment of connection-service (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class ConnectionConfig extends CoreServiceConfig {
  override PORT = 3001;

  override GRPC_PORT = 5001;

  /** `keyId:base64key,…` (32-byte keys): the first encrypts GitLab tokens, all decrypt. Required. */
  @IsKeyRing()
  TOKEN_ENCRYPTION_KEYS = '';

  /** Where GitLab reaches the webhook gateway; hooks point at `<this>/webhooks/gitlab/:connectionId`. */
  @Matches(/^[^?#]*[^/?#]$/, { message: 'must not end with / or carry a query or fragment' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_WEBHOOK_BASE_URL = 'http://127.0.0.1:3000';

  /** GitLab answers within 10 s or the connection check reports it unreachable. */
  override GITLAB_REQUEST_TIMEOUT = 10_000;

  /** How often every connection's hook and token are checked (`5m`). */
  @Min(1_000)
  @IsInt({ message: 'must be a duration such as 5m, 30s or 300000 (ms)' })
  @ToDurationMs()
  HEALTH_CHECK_INTERVAL: number = 5 * 60_000;
}
