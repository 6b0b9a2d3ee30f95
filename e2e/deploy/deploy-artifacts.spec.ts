import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import Ajv from 'ajv';
import { parse } from 'yaml';

import { WORKSPACE_ROOT } from '@testkase/testing';

const SERVICES = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const;
const read = (file: string) => readFileSync(path.join(WORKSPACE_ROOT, file), 'utf8');

/** Variables an app documents in its .env.example: the ones its config class reads. */
function documentedVariables(app: string): Set<string> {
  return new Set(
    read(`apps/${app}/.env.example`)
      .split('\n')
      .map((line) => /^\s*#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => Boolean(name)),
  );
}

const REQUIRED: Record<string, string[]> = {
  'webhook-gateway': ['DATABASE_URL', 'NATS_URL'],
  'connection-service': [
    'DATABASE_URL',
    'NATS_URL',
    'CORE_API_TOKEN',
    'TOKEN_ENCRYPTION_KEYS',
    'PUBLIC_WEBHOOK_BASE_URL',
  ],
  'requirement-sync': ['DATABASE_URL', 'NATS_URL', 'CORE_API_TOKEN'],
  'defect-sync': ['DATABASE_URL', 'NATS_URL', 'CORE_API_TOKEN'],
  'comment-relay': ['DATABASE_URL', 'NATS_URL', 'CORE_API_TOKEN'],
};

describe('Helm chart', () => {
  const chartDir = 'helm/testkase-gitlab';
  const values = parse(read(`${chartDir}/values.yaml`)) as Record<string, unknown>;
  const schema = JSON.parse(read(`${chartDir}/values.schema.json`)) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('has a valid Chart.yaml', () => {
    const chart = parse(read(`${chartDir}/Chart.yaml`)) as {
      apiVersion: string;
      name: string;
      version: string;
    };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'testkase-gitlab' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ships values that satisfy its schema', () => {
    expect(validate(values) ? [] : validate.errors).toEqual([]);
  });

  /** values.yaml as the mutations below need it. */
  type Values = {
    config: Record<string, unknown>;
    apps: Record<string, Record<string, unknown>>;
    [key: string]: unknown;
  };

  it.each<[string, (v: Values) => void]>([
    ['an unknown top-level key', (v) => (v['typo'] = true)],
    ['a bad log level', (v) => (v.config['logLevel'] = 'loud')],
    ['an http NATS URL', (v) => (v.config['natsUrl'] = 'http://nats:4222')],
    ['a negative replica count', (v) => (v.apps['requirement-sync']!['replicas'] = -1)],
    ['a lower-case env name', (v) => (v.apps['defect-sync']!['env'] = { lower: 'x' })],
    ['a missing app', (v) => delete v.apps['comment-relay']],
  ])('rejects %s', (_case, mutate) => {
    const copy = structuredClone(values) as Values;
    mutate(copy);
    expect(validate(copy)).toBe(false);
  });

  it('sets only variables the apps read, and each required one', () => {
    const helpers = read(`${chartDir}/templates/_helpers.tpl`);
    const names = [...helpers.matchAll(/- name: ([A-Z][A-Z0-9_]*)/g)].map((match) => match[1]!);
    const documented = new Set(SERVICES.flatMap((app) => [...documentedVariables(app)]));
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
    for (const app of SERVICES) for (const name of REQUIRED[app]!) expect(names).toContain(name);
  });

  it.each(
    readdirSync(path.join(WORKSPACE_ROOT, chartDir, 'templates')).filter(
      (f) => f.endsWith('.yaml') || f.endsWith('.tpl'),
    ),
  )('%s has balanced template blocks', (file) => {
    const text = read(`${chartDir}/templates/${file}`);
    expect(text.split('{{').length).toBe(text.split('}}').length);
    const opened = text.match(/\{\{-?\s*(if|range|with|define)\b/g)?.length ?? 0;
    const closed = text.match(/\{\{-?\s*end\s*-?\}\}/g)?.length ?? 0;
    expect(closed).toBe(opened);
  });
});

describe('dashboards and alert rules', () => {
  const rulesText = read('deploy/alerts/testkase-gitlab.rules.yaml');
  const rules = parse(rulesText) as {
    groups: Array<{
      name: string;
      rules: Array<{ alert: string; expr: string; labels: { severity: string } }>;
    }>;
  };
  const dashboard = JSON.parse(read('deploy/dashboards/testkase-gitlab.json')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  const sources = ['apps', 'libs']
    .flatMap((dir) =>
      readdirSync(path.join(WORKSPACE_ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts') && !file.includes('node_modules'))
        .map((file) => read(`${dir}/${file}`)),
    )
    .join('\n');

  /** Metric names in PromQL, without histogram suffixes; the default process metrics are prom-client's. */
  const metricsIn = (expr: string) =>
    [
      ...expr.matchAll(
        /\b([a-z][a-z0-9_]*_(?:total|seconds|depth|leader|imported|expected)(?:_bucket|_count|_sum)?)\b/g,
      ),
    ]
      .map((match) => match[1]!.replace(/_(bucket|count|sum)$/, ''))
      .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));

  it('ships the same rules in the chart', () => {
    expect(read('helm/testkase-gitlab/files/prometheus-rules.yaml')).toBe(rulesText);
  });

  it('gives every alert an expression and a severity', () => {
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThan(5);
    for (const alert of alerts) {
      expect(alert.expr.trim()).not.toBe('');
      expect(['critical', 'warning', 'info']).toContain(alert.labels.severity);
    }
  });

  it('only uses metrics the apps really export', () => {
    const expressions = [
      ...rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr)),
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ];
    const unknown = [...new Set(expressions.flatMap(metricsIn))].filter(
      (name) => !sources.includes(`'${name}'`),
    );
    expect(unknown).toEqual([]);
  });
});
