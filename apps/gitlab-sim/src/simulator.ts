import type { Logger } from 'pino';

import { IssuePresenter } from './api/presenters/issue.presenter';
import { RateLimiter } from './api/rate-limiter';
import type { SimConfig } from './config/sim.config';
import { FaultInjector } from './control/fault-injector';
import { Seeder } from './control/seeder';
import { IssueCloneService } from './domain/issue-clone.service';
import { IssueQuery } from './domain/issue-query';
import { IssueService } from './domain/issue.service';
import { LabelService } from './domain/label.service';
import { NoteService } from './domain/note.service';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_OFFSET_PAGINATION_LIMIT,
  rateLimitPreset,
  type RateLimitSettings,
  type SimSettings,
} from './domain/sim-settings';
import { SpamCheck } from './domain/spam-check';
import { SimUrls } from './domain/urls';
import { ApiRequestLog } from './observability/api-request-log';
import { SimMetrics } from './observability/sim-metrics';
import { AdjustableClock } from './store/clock';
import { SimStore } from './store/sim-store';
import { DeliveryDispatcher } from './webhooks/delivery-dispatcher';
import { WebhookService } from './webhooks/webhook.service';

export interface SimulatorOptions {
  logger: Logger;
  /** Defaults to wall-clock time with an offset the control API can advance. */
  clock?: AdjustableClock;
}

function configuredRateLimits(config: SimConfig): RateLimitSettings {
  const limits = rateLimitPreset(config.GITLAB_SIM_RATE_LIMITS);
  const override = (value: number | undefined, current: number | null): number | null =>
    value === undefined ? current : value === 0 ? null : value;
  limits.requestsPerMinute = override(
    config.GITLAB_SIM_RATE_LIMIT_REQUESTS_PER_MINUTE,
    limits.requestsPerMinute,
  );
  limits.issueCreatesPerMinute = override(
    config.GITLAB_SIM_RATE_LIMIT_ISSUE_CREATES_PER_MINUTE,
    limits.issueCreatesPerMinute,
  );
  limits.noteCreatesPerMinute = override(
    config.GITLAB_SIM_RATE_LIMIT_NOTE_CREATES_PER_MINUTE,
    limits.noteCreatesPerMinute,
  );
  return limits;
}

const defaultSettings = (config: SimConfig): SimSettings => ({
  legacyPayloads: config.GITLAB_SIM_LEGACY_PAYLOADS,
  rateLimits: configuredRateLimits(config),
  offsetPaginationLimit: DEFAULT_OFFSET_PAGINATION_LIMIT,
  autoDisableHooks: true,
  deliveryTimeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
  webhookSigningTokens: true,
  dropDeliveries: { next: 0, percent: 0 },
  gitlabVersion: config.GITLAB_SIM_VERSION,
});

/** Everything one simulator instance holds: state, settings and the services over them. */
export class Simulator {
  readonly clock: AdjustableClock;
  readonly store: SimStore;
  readonly urls: SimUrls;
  readonly settings: SimSettings;
  readonly metrics = new SimMetrics();
  /** Every REST request received (control, health, metrics and docs requests are not API requests). */
  readonly apiRequests = new ApiRequestLog();
  readonly dispatcher: DeliveryDispatcher;
  readonly webhooks: WebhookService;
  readonly labels: LabelService;
  readonly issues: IssueService;
  readonly cloner: IssueCloneService;
  readonly notes: NoteService;
  readonly issueQuery: IssueQuery;
  readonly issuePresenter: IssuePresenter;
  readonly rateLimiter: RateLimiter;
  readonly spamCheck: SpamCheck;
  readonly faults: FaultInjector;
  readonly seeder: Seeder;
  readonly logger: Logger;

  constructor(
    readonly config: SimConfig,
    options: SimulatorOptions,
  ) {
    this.logger = options.logger;
    this.clock = options.clock ?? new AdjustableClock();
    this.store = new SimStore(this.clock);
    this.urls = new SimUrls(config.GITLAB_SIM_EXTERNAL_URL ?? `http://${config.HOST}:${config.PORT}`);
    this.settings = defaultSettings(config);
    this.dispatcher = new DeliveryDispatcher(config.GITLAB_SIM_DELIVERY_CONCURRENCY);
    this.webhooks = new WebhookService({
      store: this.store,
      urls: this.urls,
      settings: this.settings,
      dispatcher: this.dispatcher,
      metrics: this.metrics,
      logger: this.logger,
    });
    this.labels = new LabelService(this.store);
    this.issues = new IssueService(this.store, this.labels, this.webhooks);
    this.cloner = new IssueCloneService(this.store, this.issues);
    this.notes = new NoteService(this.store, this.issues, this.webhooks, this.cloner);
    this.issueQuery = new IssueQuery(this.store);
    this.issuePresenter = new IssuePresenter(this.store, this.urls);
    this.rateLimiter = new RateLimiter(this.clock);
    this.spamCheck = new SpamCheck(this.store);
    this.faults = new FaultInjector();
    this.seeder = new Seeder(this);
  }

  /** Back to an empty simulator with the configured settings (the clock offset is kept unless asked). */
  reset(options: { resetClock?: boolean } = {}): void {
    this.store.reset();
    Object.assign(this.settings, defaultSettings(this.config));
    this.rateLimiter.reset();
    this.faults.clear();
    this.apiRequests.clear();
    if (options.resetClock) this.clock.reset();
  }
}
