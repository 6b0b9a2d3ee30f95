export * from './lib/gitlab-client';
export type * from './lib/gitlab-inputs.types';
export type * from './lib/gitlab-rest.types';
export type { GitlabLogger } from './lib/gitlab-logger';
export {
  GitlabLimiterRegistry,
  processLimiterRegistry,
  TokenRateLimiter,
  type LimiterRegistryOptions,
  type SharedBudget,
  type TokenLease,
} from './lib/rate-limit/limiter-registry';
export {
  GITLAB_COM_RATE_LIMITS,
  SELF_MANAGED_RATE_LIMITS,
  type GitlabRateLimits,
  type RateLimitRule,
  type RequestCategory,
} from './lib/rate-limit/rate-limits';
export { SpacedLimiter } from './lib/rate-limit/spaced-limiter';
export type { SharedLimiterStore } from './lib/rate-limit/shared-limiter.store';
export { classifyAddress, type AddressClass, type AddressVerdict } from './lib/ssrf/address-classifier';
export {
  assertInstanceUrlAllowed,
  isHostExplicitlyAllowed,
  STRICT_URL_POLICY,
  type HostResolver,
  type ResolvedAddress,
  type UrlCheckOptions,
  type UrlPolicy,
} from './lib/ssrf/url-policy';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './lib/transport/request-handler';
export { DEFAULT_MAX_RESPONSE_BYTES } from './lib/transport/guarded-fetch';
export { parseLinkHeader } from './lib/transport/link-pagination';
export { templateRoute, type GitlabMetricsSink } from './lib/transport/gitlab-metrics';
export * from './lib/payloads';
