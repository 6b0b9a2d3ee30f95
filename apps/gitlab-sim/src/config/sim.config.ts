import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';

import { HttpAppConfig, loadConfig, ToBoolean, ToInteger } from '@testkase/platform';

import { GITLAB_VERSION_PATTERN } from '../domain/gitlab-version';

export const RATE_LIMIT_PRESETS = ['off', 'gitlab.com'] as const;
export type RateLimitPreset = (typeof RATE_LIMIT_PRESETS)[number];

/** Configuration of the GitLab simulator (apps/gitlab-sim/README.md, "Configuration"). */
export class SimConfig extends HttpAppConfig {
  override PORT = 3080;

  override HOST = '127.0.0.1';

  /** Seed the demo project, users and tokens at start-up. */
  @ToBoolean()
  @IsBoolean()
  GITLAB_SIM_SEED_DEMO = true;

  @Matches(/^\S{8,}$/, { message: 'must be at least 8 characters without spaces' })
  GITLAB_SIM_MAINTAINER_TOKEN = 'glpat-sim-maintainer-0000000001';

  @Matches(/^\S{8,}$/, { message: 'must be at least 8 characters without spaces' })
  GITLAB_SIM_DEVELOPER_TOKEN = 'glpat-sim-developer-0000000002';

  /** Base URL used in web_url, Link headers and X-Gitlab-Instance. Defaults to http://127.0.0.1:<port>. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  GITLAB_SIM_EXTERNAL_URL?: string = undefined;

  /** The GitLab version the simulator claims at start (GET /version, User-Agent, version-dependent routes). */
  @IsString()
  @Matches(GITLAB_VERSION_PATTERN, { message: 'must look like 18.6.0' })
  GITLAB_SIM_VERSION = '18.6.0';

  @IsIn(RATE_LIMIT_PRESETS)
  GITLAB_SIM_RATE_LIMITS: RateLimitPreset = 'off';

  /** Per-limit overrides of the preset (per user and minute; 0 = off). */
  @IsOptional()
  @Min(0)
  @IsInt()
  @ToInteger()
  GITLAB_SIM_RATE_LIMIT_REQUESTS_PER_MINUTE?: number = undefined;

  @IsOptional()
  @Min(0)
  @IsInt()
  @ToInteger()
  GITLAB_SIM_RATE_LIMIT_ISSUE_CREATES_PER_MINUTE?: number = undefined;

  @IsOptional()
  @Min(0)
  @IsInt()
  @ToInteger()
  GITLAB_SIM_RATE_LIMIT_NOTE_CREATES_PER_MINUTE?: number = undefined;

  /** Send the 2018 generation of webhook payloads for every project (can be switched per project). */
  @ToBoolean()
  @IsBoolean()
  GITLAB_SIM_LEGACY_PAYLOADS = false;

  /** Webhook deliveries in flight at once, across all hooks. */
  @Min(1)
  @Max(1024)
  @IsInt()
  @ToInteger()
  GITLAB_SIM_DELIVERY_CONCURRENCY = 64;
}

export function loadSimConfig(env?: Record<string, string | undefined>): SimConfig {
  return loadConfig(SimConfig, env, 'gitlab-sim');
}
