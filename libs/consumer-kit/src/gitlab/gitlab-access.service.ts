import type { DataSource } from 'typeorm';

import { ConnectionAuthFailed, type ConnectionCredentials } from '@testkase/contracts';
import {
  createGitlabClient,
  GITLAB_COM_RATE_LIMITS,
  processLimiterRegistry,
  SELF_MANAGED_RATE_LIMITS,
  snapshotFromRestIssue,
  type GitlabClient,
  type GitlabLimiterRegistry,
  type GitlabMetricsSink,
  type GitlabRateLimits,
  type IssueSnapshot,
  type RateLimitRule,
} from '@testkase/gitlab';
import type { Logger, Outbox } from '@testkase/platform';
import { isAppError, sha256Hex } from '@testkase/util';

import type { GitlabConsumerConfig, RateLimitPreset } from '../config/gitlab-consumer.config';
import type { ConnectionProjection } from '../connections/connection-projection';
import type { CredentialsProvider } from './credentials.provider';

interface CachedClient {
  client: GitlabClient;
  tokenHash: string;
}

/** GitLab answered 401: the token is expired, revoked or wrong. */
export const isAuthFailure = (error: unknown): boolean =>
  isAppError(error) && (error.code === 'AUTH_FAILED' || error.code === 'TOKEN_EXPIRED');

/** Per-minute overrides of a preset's figures (0: no client-side limit); undefined keeps the preset's. */
export interface RateLimitOverrides {
  readonly requestsPerMinute?: number;
  readonly issueCreatesPerMinute?: number;
  readonly noteCreatesPerMinute?: number;
}

const perMinute = (preset: RateLimitRule | null, override: number | undefined): RateLimitRule | null => {
  if (override === undefined) return preset;
  return override === 0 ? null : { points: override, durationSeconds: 60 };
};

/** The client-side limits of a preset for an instance (`auto`: GitLab.com's for gitlab.com), with overrides. */
export function rateLimitsFor(
  preset: RateLimitPreset,
  instanceUrl: string,
  overrides: RateLimitOverrides = {},
): GitlabRateLimits {
  const base =
    preset === 'gitlab.com' ||
    (preset === 'auto' && /(^|\.)gitlab\.com$/i.test(new URL(instanceUrl).hostname))
      ? GITLAB_COM_RATE_LIMITS
      : SELF_MANAGED_RATE_LIMITS;
  return {
    requests: perMinute(base.requests, overrides.requestsPerMinute),
    issueCreates: perMinute(base.issueCreates, overrides.issueCreatesPerMinute),
    noteCreates: perMinute(base.noteCreates, overrides.noteCreatesPerMinute),
  };
}

/**
 * One GitLab client per connection, built from its current credentials (a new token builds a new
 * client), and what happens when GitLab refuses the token: the connection is marked and
 * `integration.connection.auth_failed` is published once per failure episode, so connection-service
 * can tell TestKase core.
 */
export class GitlabAccess {
  private readonly clients = new Map<string, CachedClient>();

  constructor(
    private readonly service: string,
    private readonly credentials: CredentialsProvider,
    private readonly connections: ConnectionProjection,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly config: GitlabConsumerConfig,
    private readonly logger: Logger,
    /**
     * The token budgets; the kit module gives one shared by the service's replicas
     * (PostgresLimiterStore). A client's budget is released when it is closed (forget, close).
     */
    private readonly limiterRegistry: GitlabLimiterRegistry = processLimiterRegistry,
    /** GitLab calls by route and status, 429 waits, retries (platform `gitlabMetrics`). */
    private readonly metrics?: GitlabMetricsSink,
  ) {}

  /**
   * @throws AppError NOT_CONNECTED (no active connection with this id), TransientError (no answer)
   */
  async clientFor(connectionId: string): Promise<GitlabClient> {
    return (await this.accessFor(connectionId)).client;
  }

  /** The client and the credentials it was built from (the token user id, say). */
  async accessFor(
    connectionId: string,
  ): Promise<{ client: GitlabClient; credentials: ConnectionCredentials }> {
    const credentials = await this.credentials.get(connectionId);
    const tokenHash = sha256Hex(credentials.token);
    const cached = this.clients.get(connectionId);
    if (cached && cached.tokenHash === tokenHash) return { client: cached.client, credentials };
    if (cached) void cached.client.close().catch(() => undefined);
    const client = createGitlabClient({
      instanceUrl: credentials.instanceUrl,
      token: credentials.token,
      policy: {
        allowPrivateNetwork: this.config.GITLAB_ALLOW_PRIVATE_NETWORK,
        allowedHosts: this.config.GITLAB_ALLOWED_HOSTS,
      },
      caCertificate: credentials.caCertificate ?? undefined,
      limits: rateLimitsFor(this.config.GITLAB_RATE_LIMITS, credentials.instanceUrl, {
        requestsPerMinute: this.config.GITLAB_RATE_LIMIT_REQUESTS_PER_MINUTE,
        issueCreatesPerMinute: this.config.GITLAB_RATE_LIMIT_ISSUE_CREATES_PER_MINUTE,
        noteCreatesPerMinute: this.config.GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE,
      }),
      timeoutMs: this.config.GITLAB_REQUEST_TIMEOUT,
      logger: this.logger.child({ component: 'gitlab', connectionId }),
      limiterRegistry: this.limiterRegistry,
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
    this.clients.set(connectionId, { client, tokenHash });
    return { client, credentials };
  }

  /**
   * The issue as GitLab has it now (a webhook too thin or too old to apply), or null when it is
   * gone, the connection is no longer active, or GitLab refused the token (reported here: the
   * reconciliation repairs the issue once the token works again).
   */
  async currentIssue(
    connectionId: string,
    gitlabProjectId: number,
    iid: number,
    /** A consumer's InboundMessage.signal: the read stops when the message is given up. */
    signal?: AbortSignal,
  ): Promise<IssueSnapshot | null> {
    try {
      const gitlab = await this.clientFor(connectionId);
      return snapshotFromRestIssue(await gitlab.issues.get(gitlabProjectId, iid, { signal }));
    } catch (error) {
      if (isAppError(error) && (error.code === 'GITLAB_NOT_FOUND' || error.code === 'NOT_CONNECTED'))
        return null;
      if (isAuthFailure(error)) {
        await this.reportAuthFailure(connectionId, error);
        return null;
      }
      throw error;
    }
  }

  /** Drops the cached credentials and client (after a refusal, or when the connection changed). */
  forget(connectionId: string): void {
    this.credentials.forget(connectionId);
    const cached = this.clients.get(connectionId);
    this.clients.delete(connectionId);
    if (cached) void cached.client.close().catch(() => undefined);
  }

  /** Records GitLab's refusal of the token; publishes ConnectionAuthFailed the first time. */
  async reportAuthFailure(connectionId: string, error: unknown): Promise<void> {
    this.forget(connectionId);
    const detail = (isAppError(error) ? `${error.code}: ${error.message}` : String(error)).slice(0, 500);
    const published = await this.dataSource.transaction(async (tx) => {
      if (!(await this.connections.markAuthFailed(tx, connectionId))) return false;
      await this.outbox.add(
        tx,
        ConnectionAuthFailed,
        { connectionId, service: this.service, detail, occurredAt: new Date().toISOString() },
        { subject: connectionId },
      );
      return true;
    });
    this.logger.warn(
      { connectionId, code: isAppError(error) ? error.code : undefined, published },
      'GitLab refused the token',
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.clients.values()].map((cached) => cached.client.close().catch(() => undefined)),
    );
    this.clients.clear();
  }
}
