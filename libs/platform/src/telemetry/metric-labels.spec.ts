import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Registry } from 'prom-client';

import { gitlabMetrics } from './gitlab-metrics';
import { MetricsRegistry } from './metrics';

/**
 * Bounded cardinality (docs/ARCHITECTURE.md, "Telemetry"): no long-lived series per connection,
 * project, instance or URL. Per-connection detail belongs in logs and the connection API.
 */
const UNBOUNDED_LABEL =
  /^(connection|connection_?id|connectionId|project|project_?id|projectId|tenant|instance|url|path|issue|iid|user)$/i;

const ROOT = path.resolve(__dirname, '../../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name) ? [full] : [];
  });
}

/** Label names of every metric defined in the sources: registry.counter/gauge/histogram and new Counter… */
function declaredLabels(source: string): Array<{ name: string; labels: string[] }> {
  const found: Array<{ name: string; labels: string[] }> = [];
  const helper =
    /\.(?:counter|gauge|histogram)\(\s*'([a-z_:]+)'\s*,\s*(?:'(?:[^'\\]|\\.)*'|"[^"]*"|`[^`]*`)\s*,?\s*(\[[^\]]*\])?/g;
  for (const match of source.matchAll(helper)) {
    found.push({
      name: match[1] as string,
      labels: [...(match[2] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] as string),
    });
  }
  const direct =
    /new (?:Counter|Gauge|Histogram|Summary)\(\{[^}]*?name:\s*'([a-z_:]+)'[^}]*?labelNames:\s*\[([^\]]*)\]/gs;
  for (const match of source.matchAll(direct)) {
    found.push({
      name: match[1] as string,
      labels: [...(match[2] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] as string),
    });
  }
  return found;
}

describe('metric labels', () => {
  it('finds the metric definitions it scans (the scan is not empty)', () => {
    const all = ['apps', 'libs'].flatMap((dir) => sourceFiles(path.join(ROOT, dir)));
    const names = all.flatMap((file) => declaredLabels(readFileSync(file, 'utf8')).map((d) => d.name));
    expect(names).toEqual(expect.arrayContaining(['messages_handled_total', 'outbox_parked_total']));
  });

  it('declares no label per connection, project, instance or URL in any app or lib', () => {
    const offenders = ['apps', 'libs']
      .flatMap((dir) => sourceFiles(path.join(ROOT, dir)))
      .flatMap((file) =>
        declaredLabels(readFileSync(file, 'utf8'))
          .filter((d) => d.labels.some((label) => UNBOUNDED_LABEL.test(label)))
          .map((d) => `${path.relative(ROOT, file)}: ${d.name}{${d.labels.join(',')}}`),
      );
    expect(offenders).toEqual([]);
  });

  it('catches such a label in a scanned definition', () => {
    const source = "metrics.gauge('backfill_imported', 'per connection', ['connection']);";
    expect(declaredLabels(source)).toEqual([{ name: 'backfill_imported', labels: ['connection'] }]);
  });

  it('gives the GitLab metrics bounded labels only, and keeps the service label', async () => {
    const metrics = new MetricsRegistry('svc');
    const sink = gitlabMetrics(metrics);
    sink.request({ method: 'GET', route: '/projects/:id/issues/:iid', status: '429' }, 0.2);
    sink.rateLimited(30);
    sink.retry('rate_limited');
    const registered = (metrics.registry as Registry).getMetricsAsArray();
    for (const metric of registered) {
      const labelNames = (metric as unknown as { labelNames: string[] }).labelNames;
      expect(labelNames.filter((l) => UNBOUNDED_LABEL.test(l))).toEqual([]);
    }
    const text = await metrics.metrics();
    expect(text).toContain(
      'gitlab_requests_total{method="GET",route="/projects/:id/issues/:iid",status="429",service="svc"} 1',
    );
    expect(text).toContain('gitlab_rate_limit_wait_seconds_count{service="svc"} 1');
    expect(text).toContain('gitlab_retries_total{reason="rate_limited",service="svc"} 1');
  });
});
