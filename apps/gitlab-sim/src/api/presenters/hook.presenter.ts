import { isoSeconds, nullableTime } from '../../domain/time-format';
import { HOOK_EVENT_FLAGS, type DeliveryRecord, type SimHook } from '../../store/models';
import { alertStatus } from '../../webhooks/auto-disabling';

/**
 * `Entities::ProjectHook` (fixture api-hook.json, plus the 19.0 `token_present` fields while the
 * signing-token flag is on). The secrets never leave.
 */
export function presentHook(hook: SimHook, now: number, signingTokens: boolean): Record<string, unknown> {
  const entity: Record<string, unknown> = {
    id: hook.id,
    url: hook.url,
    name: hook.name,
    description: hook.description,
    project_id: hook.projectId,
  };
  for (const flag of HOOK_EVENT_FLAGS) entity[flag] = hook.events[flag];
  Object.assign(entity, {
    push_events_branch_filter: hook.pushEventsBranchFilter,
    branch_filter_strategy: hook.branchFilterStrategy,
    enable_ssl_verification: hook.enableSslVerification,
    alert_status: alertStatus(hook, now),
    disabled_until: nullableTime(hook.disabledUntil, isoSeconds),
    url_variables: hook.urlVariables.map(({ key }) => ({ key })),
    created_at: isoSeconds(hook.createdAt),
    custom_webhook_template: hook.customWebhookTemplate,
    custom_headers: hook.customHeaders.map(({ key }) => ({ key })),
  });
  if (signingTokens) {
    entity['token_present'] = hook.token !== null;
    entity['signing_token_present'] = hook.signingToken !== null;
  }
  return entity;
}

const REDACTED_HEADERS = new Set(['x-gitlab-token']);

/** One entry of `GET /projects/:id/hooks/:hook_id/events` (fixture api-hook-events.json). */
export function presentHookEvent(
  record: DeliveryRecord,
  customHeaderNames: ReadonlySet<string>,
): Record<string, unknown> {
  const requestHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.requestHeaders)) {
    const lower = name.toLowerCase();
    requestHeaders[name] = REDACTED_HEADERS.has(lower) || customHeaderNames.has(lower) ? '[REDACTED]' : value;
  }
  let requestData: unknown;
  try {
    requestData = JSON.parse(record.body);
  } catch {
    requestData = record.body;
  }
  return {
    id: record.id,
    url: record.url,
    trigger: record.trigger,
    request_headers: requestHeaders,
    request_data: requestData,
    response_headers: record.responseHeaders,
    response_body: record.responseBody,
    execution_duration: (record.durationMs ?? 0) / 1000,
    response_status: record.responseStatus === null ? 'internal error' : String(record.responseStatus),
  };
}
