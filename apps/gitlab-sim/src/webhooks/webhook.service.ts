import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import type { SimSettings } from '../domain/sim-settings';
import type { SimUrls } from '../domain/urls';
import type { SimMetrics } from '../observability/sim-metrics';
import type {
  DeliveryRecord,
  HookEventFlag,
  HookTrigger,
  SimHook,
  SimIssue,
  SimNote,
  SimProject,
  SimUser,
} from '../store/models';
import type { SimStore } from '../store/sim-store';
import { executable, recordFailure, recordSuccess } from './auto-disabling';
import type { DeliveryDispatcher, DeliveryResult } from './delivery-dispatcher';
import {
  PayloadBuilder,
  renderCustomTemplate,
  type IssueAction,
  type IssueChanges,
  type NoteAction,
} from './payload-builder';
import { standardWebhookSignature } from './signing';

/** Payloads above this are not sent (WebHookService::REQUEST_BODY_SIZE_LIMIT). */
const REQUEST_BODY_SIZE_LIMIT = 25 * 1024 * 1024;

const TRIGGER_FLAG: Record<HookTrigger, HookEventFlag> = {
  issue_hooks: 'issues_events',
  confidential_issue_hooks: 'confidential_issues_events',
  note_hooks: 'note_events',
  confidential_note_hooks: 'confidential_note_events',
};

/** `X-Gitlab-Event`: the hook scope, singularised and title-cased. */
const TRIGGER_EVENT: Record<HookTrigger, string> = {
  issue_hooks: 'Issue Hook',
  confidential_issue_hooks: 'Confidential Issue Hook',
  note_hooks: 'Note Hook',
  confidential_note_hooks: 'Confidential Note Hook',
};

/** The actor of a write and, when the triggering request carried one, its X-Gitlab-Event-UUID. */
export interface EventContext {
  actor: SimUser;
  eventUuid?: string;
}

export interface WebhookServiceOptions {
  store: SimStore;
  urls: SimUrls;
  settings: SimSettings;
  dispatcher: DeliveryDispatcher;
  metrics: SimMetrics;
  logger: Logger;
}

/**
 * Turns domain events into deliveries the way GitLab does: only hooks subscribed to the event's
 * scope, only executable hooks, one payload per event, one attempt per hook, and the outcome
 * feeding the hook's auto-disabling state.
 */
export class WebhookService {
  readonly payloads: PayloadBuilder;

  constructor(private readonly options: WebhookServiceOptions) {
    this.payloads = new PayloadBuilder(options.store, options.urls);
  }

  private subscribedHooks(projectId: number, trigger: HookTrigger): SimHook[] {
    const hooks = this.options.store.hooksByProject.get(projectId);
    if (!hooks || hooks.size === 0) return [];
    const flag = TRIGGER_FLAG[trigger];
    const subscribed: SimHook[] = [];
    for (const hook of hooks.values()) if (hook.events[flag]) subscribed.push(hook);
    return subscribed;
  }

  issueEvent(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    action: IssueAction,
    changes: IssueChanges,
  ): void {
    const trigger: HookTrigger = issue.confidential ? 'confidential_issue_hooks' : 'issue_hooks';
    const hooks = this.subscribedHooks(project.id, trigger);
    if (hooks.length === 0) return;
    const generation = this.payloads.generationFor(project, issue, this.options.settings.legacyPayloads);
    const payload = this.payloads.issueEvent({
      project,
      issue,
      actor: context.actor,
      action,
      changes,
      generation,
    });
    this.fanOut(hooks, trigger, payload, context.eventUuid);
  }

  noteEvent(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    note: SimNote,
    action: NoteAction,
  ): void {
    if (note.system) return;
    const trigger: HookTrigger =
      issue.confidential || note.internal ? 'confidential_note_hooks' : 'note_hooks';
    const hooks = this.subscribedHooks(project.id, trigger);
    if (hooks.length === 0) return;
    const generation =
      this.payloads.generationFor(project, issue, this.options.settings.legacyPayloads) === 'legacy'
        ? 'legacy'
        : 'modern';
    const payload = this.payloads.noteEvent({
      project,
      issue,
      note,
      actor: context.actor,
      action,
      generation,
    });
    this.fanOut(hooks, trigger, payload, context.eventUuid);
  }

  /** Sends a payload to one hook now (hook test): bypasses the disabled state, like GitLab's `force`. */
  async sendNow(
    hook: SimHook,
    trigger: HookTrigger,
    payload: Record<string, unknown>,
  ): Promise<DeliveryRecord> {
    const record = this.createRecord(
      hook,
      trigger,
      JSON.stringify(payload),
      randomUUID(),
      randomUUID(),
      null,
    );
    return this.dispatch(hook, record);
  }

  /**
   * Resends a past delivery with the same Idempotency-Key (and so the same `webhook-id`); the
   * other UUIDs and the signature timestamp are new, as for any request GitLab makes.
   */
  async resend(original: DeliveryRecord): Promise<DeliveryRecord> {
    const hook = this.options.store.hooks.get(original.hookId);
    if (!hook) throw new Error(`hook ${original.hookId} no longer exists`);
    const record = this.createRecord(
      hook,
      original.trigger,
      original.body,
      original.idempotencyKey,
      randomUUID(),
      original.id,
    );
    return this.dispatch(hook, record);
  }

  private fanOut(
    hooks: SimHook[],
    trigger: HookTrigger,
    payload: Record<string, unknown>,
    carriedEventUuid: string | undefined,
  ): void {
    const now = this.options.store.clock.now();
    let body: string | undefined;
    for (const hook of hooks) {
      const hookBody = hook.customWebhookTemplate
        ? renderCustomTemplate(hook.customWebhookTemplate, payload)
        : (body ??= JSON.stringify(payload));
      const record = this.createRecord(
        hook,
        trigger,
        hookBody,
        randomUUID(),
        carriedEventUuid ?? randomUUID(),
        null,
      );
      if (!executable(hook, now)) {
        this.settle(record, 'skipped_disabled');
        continue;
      }
      if (this.shouldDrop()) {
        this.settle(record, 'dropped');
        continue;
      }
      void this.dispatch(hook, record);
    }
  }

  private shouldDrop(): boolean {
    const drop = this.options.settings.dropDeliveries;
    if (drop.next > 0) {
      drop.next -= 1;
      return true;
    }
    return drop.percent > 0 && Math.random() * 100 < drop.percent;
  }

  private settle(record: DeliveryRecord, outcome: 'dropped' | 'skipped_disabled'): void {
    record.outcome = outcome;
    record.sentAt = performance.timeOrigin + performance.now();
    this.options.store.addDelivery(record);
    this.options.metrics.deliveries.inc({ outcome });
  }

  private createRecord(
    hook: SimHook,
    trigger: HookTrigger,
    body: string,
    idempotencyKey: string,
    eventUuid: string,
    resendOf: number | null,
  ): DeliveryRecord {
    const { store, urls, settings } = this.options;
    const webhookUuid = randomUUID();
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `GitLab/${settings.gitlabVersion}`,
      'Idempotency-Key': idempotencyKey,
      'X-Gitlab-Event': TRIGGER_EVENT[trigger],
      'X-Gitlab-Webhook-UUID': webhookUuid,
      'X-Gitlab-Instance': urls.baseUrl,
      'X-Gitlab-Event-UUID': eventUuid,
    };
    if (hook.token !== null) headers['X-Gitlab-Token'] = hook.token.replace(/[\r\n]/g, '');
    for (const { key, value } of hook.customHeaders) {
      if (!Object.keys(headers).some((name) => name.toLowerCase() === key.toLowerCase()))
        headers[key] = value;
    }
    return {
      id: store.nextId('delivery'),
      hookId: hook.id,
      projectId: hook.projectId,
      url: hook.url,
      trigger,
      event: TRIGGER_EVENT[trigger],
      requestHeaders: headers,
      body,
      idempotencyKey,
      eventUuid,
      webhookUuid,
      resendOf,
      sentAt: 0,
      durationMs: null,
      responseStatus: null,
      responseHeaders: {},
      responseBody: '',
      error: null,
      outcome: 'pending',
    };
  }

  private async dispatch(hook: SimHook, record: DeliveryRecord): Promise<DeliveryRecord> {
    const { store, settings, dispatcher, metrics, logger } = this.options;
    store.addDelivery(record);
    if (hook.signingToken !== null && settings.webhookSigningTokens) {
      // Real time, not the simulator clock: receivers check the timestamp against their own clock.
      const timestamp = Math.floor(Date.now() / 1000);
      record.requestHeaders['webhook-id'] = record.idempotencyKey;
      record.requestHeaders['webhook-timestamp'] = String(timestamp);
      record.requestHeaders['webhook-signature'] = standardWebhookSignature(
        hook.signingToken,
        record.idempotencyKey,
        timestamp,
        record.body,
      );
    }
    let result: DeliveryResult;
    if (Buffer.byteLength(record.body) > REQUEST_BODY_SIZE_LIMIT) {
      const now = performance.timeOrigin + performance.now();
      result = {
        status: null,
        headers: {},
        body: 'Request body too large',
        error: 'Request body too large',
        sentAt: now,
        durationMs: 0,
      };
    } else {
      result = await dispatcher.send({
        url: record.url,
        headers: record.requestHeaders,
        body: record.body,
        verifyTls: hook.enableSslVerification,
        timeoutMs: settings.deliveryTimeoutMs,
      });
    }
    record.sentAt = result.sentAt;
    record.durationMs = result.durationMs;
    record.responseStatus = result.status;
    record.responseHeaders = result.headers;
    record.responseBody = result.body;
    record.error = result.error;
    // WebHookService#response_category: 2xx and 3xx are :ok, anything else (and no answer) is an error.
    const ok = result.status !== null && result.status >= 200 && result.status < 400;
    record.outcome = ok ? 'success' : 'failure';
    metrics.deliveries.inc({ outcome: record.outcome });
    metrics.deliveryDuration.observe(result.durationMs / 1000);
    const liveHook = store.hooks.get(hook.id);
    if (liveHook) {
      if (ok) recordSuccess(liveHook);
      else if (settings.autoDisableHooks) recordFailure(liveHook, store.clock.now());
    }
    if (!ok)
      logger.debug(
        { hookId: hook.id, deliveryId: record.id, status: result.status, error: result.error },
        'webhook delivery failed',
      );
    return record;
  }
}
