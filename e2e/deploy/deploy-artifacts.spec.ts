import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

  const templateFiles = readdirSync(path.join(WORKSPACE_ROOT, chartDir, 'templates'), {
    recursive: true,
    encoding: 'utf8',
  }).filter((f) => f.endsWith('.yaml') || f.endsWith('.tpl'));

  it.each(templateFiles)('%s has balanced template blocks', (file) => {
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

  const alerts = rules.groups.flatMap((group) => group.rules) as unknown as Array<{
    alert: string;
    expr: string;
    annotations: Record<string, string>;
  }>;
  const alertNamed = (name: string) => alerts.find((alert) => alert.alert === name)!;

  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  const anchorsOf = (markdown: string) =>
    new Set(
      [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );

  it('alerts on `up` for each of the five services', () => {
    const down = alertNamed('TestkaseGitlabServiceDown');
    for (const service of SERVICES) {
      expect(down.expr).toContain(`absent(up{service="${service}"})`);
      expect(down.expr).toMatch(new RegExp(`up\\{service=~"[^"]*\\b${service}\\b`));
    }
    expect(down.expr).not.toContain('process_start_time_seconds');
  });

  it('alerts on pending spool rows, and on parked ones apart', () => {
    expect(alertNamed('TestkaseGitlabWebhooksSpooling').expr).toContain(
      'gateway_spool_depth{state="pending"}',
    );
    expect(alertNamed('TestkaseGitlabSpoolParked').expr).toContain('gateway_spool_depth{state="parked"}');
    // The relay really reports both states.
    expect(read('apps/webhook-gateway/src/spool/spool-relay.service.ts')).toMatch(
      /state: 'pending'[\s\S]*state: 'parked'/,
    );
  });

  it('links every alert to its section of docs/RUNBOOK.md', () => {
    const anchors = anchorsOf(read('docs/RUNBOOK.md'));
    for (const alert of alerts) {
      const url = alert.annotations['runbook_url'] ?? '';
      expect([alert.alert, url]).toEqual([
        alert.alert,
        expect.stringMatching(/^https:\/\/.+\/docs\/RUNBOOK\.md#/),
      ]);
      const anchor = url.split('#')[1]!;
      expect(anchor).toBe(alert.alert.toLowerCase());
      expect([alert.alert, anchors.has(anchor)]).toEqual([alert.alert, true]);
    }
  });

  it('ships the same dashboard in the chart', () => {
    expect(read('helm/testkase-gitlab/files/dashboard.json')).toBe(
      read('deploy/dashboards/testkase-gitlab.json'),
    );
  });

  it('lets Grafana pick the rate window and the namespace', () => {
    const raw = dashboard as unknown as { templating: { list: Array<{ name: string; query?: unknown }> } };
    expect(raw.templating.list.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['datasource', 'namespace']),
    );
    const expressions = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr),
    );
    expect(expressions.length).toBeGreaterThan(10);
    for (const expr of expressions) {
      expect(expr).not.toMatch(/\brate\([^()]*\[\d+[smhd]\]\)/);
      expect(expr).toContain('namespace=~"$namespace"');
    }
    expect(
      expressions.filter((expr) => expr.includes('rate(')).every((e) => e.includes('[$__rate_interval]')),
    ).toBe(true);
  });

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

/** values.yaml as a mutation sees it (any key, any depth). */
/** Values mutated freely by the schema checks below (any shape, on purpose). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** Values of the chart as the checks below read them. */
type ChartValues = {
  jetstream: { replicas: number; maxBytes: number; manage: string; setupJob: { resources?: object } };
  nats: { credsSecret: string };
  apps: Record<string, { port: number; grpcPort?: number }>;
  probes: Record<'startup' | 'liveness' | 'readiness', { timeoutSeconds: number }>;
  migrations: { resources?: { requests?: object; limits?: object } };
  networkPolicy: {
    enabled: boolean;
    egress: { gitlab: { cidrs: Array<{ cidr: string; except?: string[] }> } };
  };
  autoscaling: {
    gateway: { enabled: boolean };
    keda: { enabled: boolean; natsMonitoringEndpoint: string; consumers: Record<string, unknown[]> };
  };
  dashboards: { label: string; labelValue: string };
  prometheusRule: { runbookBaseUrl: string };
  secrets: { keys: Record<string, unknown> };
};

/*
 * There is no Helm binary here, and re-implementing Go templates for a test would check the
 * re-implementation more than the chart. So: the values are validated with the chart's own schema,
 * the files/ are parsed, and the templates are checked structurally (what each must contain).
 */
describe('Helm chart: production behaviour (issue 12)', () => {
  const chartDir = 'helm/testkase-gitlab';
  const values = parse(read(`${chartDir}/values.yaml`)) as ChartValues;
  const schema = JSON.parse(read(`${chartDir}/values.schema.json`)) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const template = (file: string) => read(`${chartDir}/templates/${file}`);
  const valid = (mutate: (v: Loose) => void) => {
    const copy = structuredClone(values) as unknown as Loose;
    mutate(copy);
    return validate(copy);
  };

  it('reads only values that values.yaml defines (no typo renders an empty field)', () => {
    const paths = templateFilesOf(chartDir).flatMap((file) =>
      [...template(file).matchAll(/\$?\.Values((?:\.[A-Za-z][A-Za-z0-9_]*)+)/g)].map((m) => ({
        file,
        path: m[1]!.slice(1).split('.'),
      })),
    );
    expect(paths.length).toBeGreaterThan(50);
    const undefinedPaths = paths
      .filter(({ path: keys }) => {
        let node: unknown = values;
        for (const key of keys) {
          if (node === null || typeof node !== 'object' || !(key in node)) return true;
          node = (node as Record<string, unknown>)[key];
        }
        return false;
      })
      .map(({ file, path: keys }) => `${file}: .Values.${keys.join('.')}`);
    expect([...new Set(undefinedPaths)]).toEqual([]);
  });

  it('accepts `global` from an umbrella chart and still rejects unknown keys', () => {
    expect(valid((v) => (v['global'] = { imageRegistry: 'registry.example.com' }))).toBe(true);
    expect(valid((v) => (v['globals'] = {}))).toBe(false);
  });

  it.each<[string, (v: Loose) => void]>([
    ['zero JetStream replicas', (v) => (v['jetstream'].replicas = 0)],
    ['an unknown JetStream manager', (v) => (v['jetstream'].manage = 'operator')],
    [
      'a probe timeout no longer than the readiness checks',
      (v) => (v['probes'].readiness.timeoutSeconds = 1),
    ],
    ['a runbook base that is no URL', (v) => (v['prometheusRule'].runbookBaseUrl = 'docs/RUNBOOK.md')],
    ['a lower-case extraEnv name with a space', (v) => (v['extraEnv'] = [{ name: 'A B', value: 'x' }])],
    [
      'a KEDA endpoint with a scheme',
      (v) => (v['autoscaling'].keda.natsMonitoringEndpoint = 'http://nats:8222'),
    ],
  ])('rejects %s', (_case, mutate) => {
    expect(valid(mutate)).toBe(false);
  });

  it('defaults to R3 streams managed by the hook Job, passed to every app and the Job', () => {
    expect(values.jetstream).toMatchObject({ replicas: 3, maxBytes: -1, manage: 'job' });
    const helpers = template('_helpers.tpl');
    for (const name of [
      'JETSTREAM_REPLICAS',
      'JETSTREAM_MAX_BYTES',
      'JETSTREAM_MAX_AGE',
      'JETSTREAM_MANAGE',
    ]) {
      expect(helpers).toContain(`- name: ${name}`);
    }
    // The apps manage streams themselves only when no Job does.
    expect(helpers).toContain('"manage" (ne ($root.Values.jetstream).manage "job")');
    const job = template('jetstream-setup-job.yaml');
    expect(job).toContain('{{- if eq .Values.jetstream.manage "job" }}');
    expect(job).toContain('helm.sh/hook: pre-install,pre-upgrade');
    expect(job).toContain('include "tk.natsEnv"');
    expect(job).toContain('.Values.jetstream.setupJob.resources');
    // Before the migrations (weight 0), after the chart's Secret (weight -10).
    expect(job).toContain('helm.sh/hook-weight: "-5"');
  });

  it('runs only entry points that exist', () => {
    const commands = templateFilesOf(chartDir).flatMap((file) =>
      [...template(file).matchAll(/command: \["node", "(dist\/[^"]+\.js)"\]/g)].map((m) => m[1]!),
    );
    expect(commands.length).toBeGreaterThanOrEqual(3);
    const sources = commands.flatMap((command) =>
      (command.includes('{{ $name }}')
        ? SERVICES.map((app) => command.replace('{{ $name }}', app))
        : [command]
      ).map((js) => js.replace(/^dist\//, '').replace(/\.js$/, '.ts')),
    );
    expect(sources).toContain('libs/platform/src/setup-jetstream.ts');
    expect(sources.filter((file) => !existsSync(path.join(WORKSPACE_ROOT, file)))).toEqual([]);
  });

  it('runs every app from the one image that deploy/Dockerfile builds', () => {
    const helper = /define "tk\.image"[\s\S]*?end/.exec(template('_helpers.tpl'))?.[0] ?? '';
    expect(helper).toContain('.Values.image.repository');
    expect(helper).not.toContain('.name');
    expect((values as unknown as Loose)['image']).toMatchObject({ repository: expect.any(String) });
    expect(read('deploy/Dockerfile')).not.toMatch(/ARG APP\b/);
  });

  it('connects to NATS without credentials unless a Secret is named', () => {
    expect(values.nats.credsSecret).toBe('');
    // Each pod gets only its own credentials file from the Secret.
    expect(template('_helpers.tpl')).toMatch(/items:\n\s+- key: \{\{ \$credsKey \}\}/);
  });

  it("maps the existing Secret's key names", () => {
    expect(values.secrets.keys).toMatchObject({
      coreApiToken: 'core-api-token',
      tokenEncryptionKeys: 'token-encryption-keys',
      databaseUrl: 'database-url-%s',
    });
    const helpers = template('_helpers.tpl');
    expect(helpers).toContain('key: {{ include "tk.databaseUrlKey" . }}');
    expect(helpers).toContain('key: {{ $keys.coreApiToken | default "core-api-token" }}');
    expect(helpers).toContain('key: {{ $keys.tokenEncryptionKeys | default "token-encryption-keys" }}');
    expect(helpers).not.toMatch(/key: (core-api-token|token-encryption-keys)\s*$/m);
    expect(template('secret.yaml')).toContain('include "tk.databaseUrlKey"');
  });

  it('gives every app its own ServiceAccount without a token, and no token to the Jobs', () => {
    const deployments = template('deployments.yaml');
    expect(deployments).toContain('kind: ServiceAccount');
    expect(deployments).toContain('serviceAccountName: {{ include "tk.serviceAccountName" $ctx }}');
    expect(deployments.match(/automountServiceAccountToken: false/g)).toHaveLength(2);
    for (const file of ['migrations-job.yaml', 'jetstream-setup-job.yaml', 'tests/test-ready.yaml']) {
      expect(template(file)).toContain('automountServiceAccountToken: false');
    }
  });

  it('sets probe timeouts longer than the readiness checks take at worst', () => {
    // The readiness checks run in parallel, each bounded (libs/platform/src/platform.module.ts).
    const platform = read('libs/platform/src/platform.module.ts');
    const bounds = [...platform.matchAll(/(?:within\([\s\S]*?,\s*|ping\()(\d[\d_]*)/g)].map((m) =>
      Number(m[1]!.replace(/_/g, '')),
    );
    expect(bounds.length).toBeGreaterThanOrEqual(2);
    const worstMs = Math.max(...bounds);
    for (const probe of Object.values(values.probes))
      expect(probe.timeoutSeconds * 1000).toBeGreaterThan(worstMs);
    const deployments = template('deployments.yaml');
    for (const probe of ['startup', 'liveness', 'readiness']) {
      expect(deployments).toContain(`{{- toYaml $probes.${probe} | nindent 12 }}`);
    }
  });

  it('gives the migration Jobs resources', () => {
    expect(values.migrations.resources?.requests).toBeDefined();
    expect(values.migrations.resources?.limits).toBeDefined();
    expect(template('migrations-job.yaml')).toContain(
      '{{- toYaml $.Values.migrations.resources | nindent 12 }}',
    );
  });

  it('adds extraEnv and envFrom to every container', () => {
    for (const file of ['deployments.yaml', 'migrations-job.yaml', 'jetstream-setup-job.yaml']) {
      expect(template(file)).toContain('include "tk.envFrom"');
    }
    expect(template('_helpers.tpl')).toContain('{{- include "tk.extraEnv" . }}');
    expect(template('jetstream-setup-job.yaml')).toContain('include "tk.extraEnv"');
  });

  it('spreads pods over zones and nodes, with affinity configurable', () => {
    expect(template('deployments.yaml')).toContain('include "tk.placement" $ctx');
    const helpers = template('_helpers.tpl');
    for (const key of [
      'topologySpreadConstraints',
      'affinity',
      'nodeSelector',
      'tolerations',
      'priorityClassName',
    ]) {
      expect(helpers).toContain(`$root.Values.${key}`);
    }
  });

  it('exposes a gRPC port on the Service of exactly the apps that serve gRPC', () => {
    for (const app of SERVICES) {
      const serves = readdirSync(path.join(WORKSPACE_ROOT, 'apps', app, 'src'), {
        recursive: true,
        encoding: 'utf8',
      })
        .filter((file) => file.endsWith('.ts'))
        .some((file) => read(`apps/${app}/src/${file}`).includes('GRPC_PORT'));
      expect([app, values.apps[app]!.grpcPort !== undefined]).toEqual([app, serves]);
    }
    expect(template('deployments.yaml')).toMatch(/\{\{- if \$app\.grpcPort \}\}\n\s+- name: grpc\n\s+port:/);
  });

  it('restricts traffic with NetworkPolicies: only the gateway from outside, egress to what the apps need', () => {
    expect(values.networkPolicy.enabled).toBe(true);
    const policy = template('networkpolicy.yaml');
    expect(policy).toContain('policyTypes: [Ingress, Egress]');
    expect(policy).toContain('$np.metrics.namespaceSelector');
    for (const target of ['dns', 'postgres', 'nats', 'gitlab']) expect(policy).toContain(`$egress.${target}`);
    const excepted = values.networkPolicy.egress.gitlab.cidrs.flatMap((c) => c.except ?? []);
    expect(values.networkPolicy.egress.gitlab.cidrs.map((c) => c.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    expect(excepted).toEqual(expect.arrayContaining(['169.254.0.0/16', 'fd00:ec2::254/128']));
    expect(policy).toContain('except:');
  });

  it('autoscales only when asked: an HPA for the gateway, KEDA on consumer lag for the consumers', () => {
    expect(values.autoscaling.gateway.enabled).toBe(false);
    expect(values.autoscaling.keda.enabled).toBe(false);
    expect(template('hpa.yaml')).toContain('kind: HorizontalPodAutoscaler');
    const keda = template('keda-scaledobjects.yaml');
    expect(keda).toContain('type: nats-jetstream');
    expect(keda).toContain('natsServerMonitoringEndpoint: {{ required');
    // Every consumer KEDA watches is a durable the app really declares.
    const sources = readdirSync(path.join(WORKSPACE_ROOT, 'apps'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && file.includes('/src/'))
      .map((file) => read(`apps/${file}`))
      .join('\n');
    for (const [app, consumers] of Object.entries(values.autoscaling.keda.consumers)) {
      expect(SERVICES).toContain(app);
      for (const { consumer } of consumers as Array<{ consumer: string }>)
        expect(sources).toContain(`'${consumer}'`);
    }
    // An autoscaled Deployment leaves its replica count to the autoscaler.
    expect(template('deployments.yaml')).toContain('{{- if not (include "tk.autoscaled" $ctx) }}');
  });

  it("lets Prometheus keep the apps' service label, and labels ServiceMonitor and PrometheusRule", () => {
    const monitor = template('servicemonitor.yaml');
    expect(monitor).toContain('honorLabels: true');
    expect(monitor).toContain('.Values.serviceMonitor.labels');
    expect(monitor).toContain('targetLabel: service');
    expect(read('libs/platform/src/telemetry/metrics.ts')).toContain('setDefaultLabels({ service })');
    const rule = template('prometheusrule.yaml');
    expect(rule).toContain('.Values.prometheusRule.labels');
    // The base the chart rebases must be the one the rules file uses.
    const base = /replace "([^"]+)" \.Values\.prometheusRule\.runbookBaseUrl/.exec(rule)?.[1];
    expect(read(`${chartDir}/files/prometheus-rules.yaml`)).toContain(`runbook_url: ${base}#`);
  });

  it('ships the dashboard as a ConfigMap for the Grafana sidecar', () => {
    expect(values.dashboards).toMatchObject({ label: 'grafana_dashboard', labelValue: '1' });
    const configMap = template('dashboards.yaml');
    expect(configMap).toContain(
      '{{ .Values.dashboards.label }}: {{ .Values.dashboards.labelValue | quote }}',
    );
    expect(configMap).toContain('.Files.Get "files/dashboard.json"');
  });

  it('has a helm test pod that checks every app is ready', () => {
    const test = template('tests/test-ready.yaml');
    expect(test).toContain('helm.sh/hook: test');
    expect(test).toContain('/health/ready');
  });

  it('documents every top-level value, install, upgrade and secrets in its README', () => {
    const readme = read(`${chartDir}/README.md`);
    for (const heading of ['## Install', '## Upgrade', '## Secrets', '## Values'])
      expect(readme).toContain(heading);
    const missing = Object.keys(values).filter((key) => !readme.includes(`| \`${key}`));
    expect(missing).toEqual([]);
  });
});

function templateFilesOf(chartDir: string): string[] {
  return readdirSync(path.join(WORKSPACE_ROOT, chartDir, 'templates'), {
    recursive: true,
    encoding: 'utf8',
  }).filter((f) => f.endsWith('.yaml') || f.endsWith('.tpl'));
}
