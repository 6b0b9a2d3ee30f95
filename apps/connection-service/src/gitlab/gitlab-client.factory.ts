import { Inject, Injectable, Optional } from '@nestjs/common';

import {
  createGitlabClient,
  GITLAB_COM_RATE_LIMITS,
  SELF_MANAGED_RATE_LIMITS,
  type GitlabClient,
  type GitlabLogger,
  type GitlabMetricsSink,
  type UrlPolicy,
} from '@testkase/gitlab';
import { gitlabMetrics, LOGGER, MetricsRegistry, type Logger } from '@testkase/platform';

import type { ConnectionConfig } from '../config/connection-service.config';
import { CONNECTION_CONFIG } from '../shared/tokens';

export interface GitlabTarget {
  readonly instanceUrl: string;
  readonly token: string;
  readonly caCertificate?: string | null;
}

/**
 * `interactive`: an admin waits on the answer (connect, rotate, disconnect), so a dead instance
 * fails within seconds. `background`: the health job, more patient, but bounded because it holds the
 * connection's row lock meanwhile.
 */
export type GitlabCallMode = 'interactive' | 'background';

const GITLAB_COM = /(^|\.)gitlab\.com$/i;

/** Builds GitLab clients with this service's SSRF policy, timeouts and the right rate-limit preset. */
@Injectable()
export class GitlabClientFactory {
  readonly policy: UrlPolicy;
  private readonly gitlabLogger: GitlabLogger;
  private readonly metrics?: GitlabMetricsSink;

  constructor(
    @Inject(CONNECTION_CONFIG) private readonly config: ConnectionConfig,
    @Inject(LOGGER) logger: Logger,
    @Optional() registry?: MetricsRegistry,
  ) {
    this.metrics = registry ? gitlabMetrics(registry) : undefined;
    this.policy = {
      allowPrivateNetwork: config.GITLAB_ALLOW_PRIVATE_NETWORK,
      allowedHosts: config.GITLAB_ALLOWED_HOSTS,
    };
    const child = logger.child({ component: 'gitlab-client' });
    this.gitlabLogger = {
      debug: (obj, msg) => child.debug(obj, msg),
      info: (obj, msg) => child.info(obj, msg),
      warn: (obj, msg) => child.warn(obj, msg),
      error: (obj, msg) => child.error(obj, msg),
    };
  }

  create(target: GitlabTarget, mode: GitlabCallMode): GitlabClient {
    let host = '';
    try {
      host = new URL(target.instanceUrl).hostname;
    } catch {
      // createGitlabClient names the problem (URL_NOT_ALLOWED)
    }
    return createGitlabClient({
      instanceUrl: target.instanceUrl,
      token: target.token,
      policy: this.policy,
      caCertificate: target.caCertificate ?? undefined,
      limits: GITLAB_COM.test(host) ? GITLAB_COM_RATE_LIMITS : SELF_MANAGED_RATE_LIMITS,
      timeoutMs: this.config.GITLAB_REQUEST_TIMEOUT,
      retry:
        mode === 'interactive'
          ? { maxAttempts: 2, maxTotalWaitMs: 5_000, baseDelayMs: 250, maxDelayMs: 2_000 }
          : { maxAttempts: 3, maxTotalWaitMs: 20_000 },
      logger: this.gitlabLogger,
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
  }

  /** Runs `use` with a fresh client and always releases its connections. */
  async with<T>(
    target: GitlabTarget,
    mode: GitlabCallMode,
    use: (client: GitlabClient) => Promise<T>,
  ): Promise<T> {
    const client = this.create(target, mode);
    try {
      return await use(client);
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}
