/**
 * What the GitLab transport reports for metrics (docs/ARCHITECTURE.md, "Telemetry"). The lib has no
 * metrics registry of its own: an app passes a sink (libs/platform's `gitlabMetrics`). Every label
 * value is bounded: a templated route, a method, a status class or code, a reason.
 */
export interface GitlabMetricsSink {
  /** One HTTP exchange with GitLab (each attempt), by templated route and status (`network_error`). */
  request(call: { method: string; route: string; status: string }, seconds: number): void;
  /** A 429 answered by waiting `seconds` before the next attempt. */
  rateLimited(seconds: number): void;
  /** An attempt retried, by why: `rate_limited`, `server_error`, `network`. */
  retry(reason: 'rate_limited' | 'server_error' | 'network'): void;
}

/** Collections whose next segment is an id, and the name of that id in the templated route. */
const ID_AFTER: Readonly<Record<string, string>> = {
  projects: ':id',
  issues: ':iid',
  notes: ':note_id',
  hooks: ':hook_id',
  members: ':user_id',
  all: ':user_id',
  users: ':user_id',
  labels: ':label_id',
  personal_access_tokens: ':token_id',
  events: ':event_id',
  groups: ':id',
  discussions: ':discussion_id',
  work_items: ':iid',
  award_emoji: ':award_id',
};

/** Segments that are words of the API, never values (`/personal_access_tokens/self`, `/members/all`). */
const STATIC = new Set(['self', 'all', 'test', 'resend', 'statistics', 'issues_statistics']);

/**
 * The route of an API path with its values replaced by names, e.g. `projects/42/issues/7/notes` →
 * `/projects/:id/issues/:iid/notes`: a bounded label (a path would give a series per project).
 */
export function templateRoute(apiPath: string): string {
  const segments = (apiPath.split('?')[0] ?? '').split('/').filter(Boolean);
  const out: string[] = [];
  segments.forEach((segment, index) => {
    const previous = segments[index - 1];
    const named = previous !== undefined ? ID_AFTER[previous] : undefined;
    if (named && !STATIC.has(segment) && !(previous === 'members' && segment === 'all')) out.push(named);
    else if (/^\d+$/.test(segment) || segment.includes('%') || segment.length > 40) out.push(':param');
    else out.push(segment);
  });
  return `/${out.join('/')}`;
}
