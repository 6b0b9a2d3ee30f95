import type { MetricsRegistry } from './metrics';

/**
 * The sink libs/gitlab's transport reports to (`GitlabMetricsSink`, same shape; the platform does not
 * import libs/gitlab): `gitlab_requests_total{method, route, status}`, `gitlab_request_seconds{method,
 * route}`, `gitlab_rate_limited_total`, `gitlab_rate_limit_wait_seconds` and
 * `gitlab_retries_total{reason}`. Routes are templated (`/projects/:id/issues/:iid`): bounded.
 */
export function gitlabMetrics(metrics: MetricsRegistry) {
  const requests = metrics.counter('gitlab_requests_total', 'HTTP exchanges with GitLab (each attempt)', [
    'method',
    'route',
    'status',
  ]);
  const duration = metrics.histogram(
    'gitlab_request_seconds',
    'Time of one HTTP exchange with GitLab',
    ['method', 'route'],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const rateLimited = metrics.counter(
    'gitlab_rate_limited_total',
    'GitLab answers 429 that were waited out before a retry',
  );
  const waits = metrics.histogram(
    'gitlab_rate_limit_wait_seconds',
    'Waits after a GitLab 429 (Retry-After, RateLimit-Reset or backoff)',
    [],
    [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
  );
  const retries = metrics.counter('gitlab_retries_total', 'GitLab requests retried, by reason', ['reason']);
  return {
    request(call: { method: string; route: string; status: string }, seconds: number): void {
      requests.inc(call);
      duration.observe({ method: call.method, route: call.route }, seconds);
    },
    rateLimited(seconds: number): void {
      rateLimited.inc();
      waits.observe(seconds);
    },
    retry(reason: 'rate_limited' | 'server_error' | 'network'): void {
      retries.inc({ reason });
    },
  };
}
