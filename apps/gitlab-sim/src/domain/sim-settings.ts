import type { RateLimitPreset } from '../config/sim.config';

/** Per-minute limits; null means unlimited. */
export interface RateLimitSettings {
  /** Authenticated API requests per user (Rack::Attack `throttle_authenticated_api`). */
  requestsPerMinute: number | null;
  /** Issue creations per user (application limit `issues_create`). */
  issueCreatesPerMinute: number | null;
  /** Note creations per user (application limit `notes_create`). */
  noteCreatesPerMinute: number | null;
  /** Hook test and resend calls per user and hook (`web_hook_test`, `web_hook_event_resend`). */
  hookTestsPerMinute: number | null;
}

/** GitLab.com's figures (docs/GITLAB.md, "Rate limits"). */
export const GITLAB_COM_RATE_LIMITS: RateLimitSettings = {
  requestsPerMinute: 2_000,
  issueCreatesPerMinute: 200,
  noteCreatesPerMinute: 60,
  hookTestsPerMinute: 5,
};

export const NO_RATE_LIMITS: RateLimitSettings = {
  requestsPerMinute: null,
  issueCreatesPerMinute: null,
  noteCreatesPerMinute: null,
  hookTestsPerMinute: null,
};

export const rateLimitPreset = (preset: RateLimitPreset): RateLimitSettings =>
  preset === 'gitlab.com' ? { ...GITLAB_COM_RATE_LIMITS } : { ...NO_RATE_LIMITS };

/** Behaviour switches the control API can change at run time. */
export interface SimSettings {
  legacyPayloads: boolean;
  rateLimits: RateLimitSettings;
  /** Largest offset (page × per_page) offset pagination serves on keyset-capable lists; 0 = no cap. */
  offsetPaginationLimit: number;
  /** GitLab.com disables failing hooks; self-managed does not by default (feature flag off). */
  autoDisableHooks: boolean;
  deliveryTimeoutMs: number;
  /**
   * The `webhook_signing_token` feature flag (on by default from 19.0): hooks take a `signing_token`
   * and GitLab signs their deliveries. Off, the API ignores the parameter and hook entities carry
   * neither `token_present` nor `signing_token_present`, as on an older GitLab.
   */
  webhookSigningTokens: boolean;
  /** Deliveries GitLab "never sends": the next N, and then a percentage of the rest. */
  dropDeliveries: { next: number; percent: number };
  /**
   * The GitLab version claimed (`GET /version`, `User-Agent: GitLab/<version>`); routes that a
   * release added answer as an older GitLab does before it (see domain/gitlab-version.ts).
   */
  gitlabVersion: string;
}

export const DEFAULT_OFFSET_PAGINATION_LIMIT = 50_000;
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
