import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { parse } from 'yaml';

import { startApp, WORKSPACE_ROOT } from '@testkase/testing';

const SERVICES = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const;
const APPS = [...SERVICES, 'gitlab-sim'] as const;
const IMAGE = 'testkase-gitlab:local';
const read = (file: string) => readFileSync(path.join(WORKSPACE_ROOT, file), 'utf8');
const exists = (file: string) => existsSync(path.join(WORKSPACE_ROOT, file));

/** Variables an app documents in its .env.example: the ones its config class reads. */
function documentedVariables(app: string): Set<string> {
  return new Set(
    read(`apps/${app}/.env.example`)
      .split('\n')
      .map((line) => /^\s*#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => Boolean(name)),
  );
}

/** The default PORT of an app's config class. */
function defaultPort(app: string): number {
  const dir = `apps/${app}/src/config`;
  const text = readdirSync(path.join(WORKSPACE_ROOT, dir))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
    .map((file) => read(`${dir}/${file}`))
    .join('\n');
  const match = /override PORT(?::\s*number)?\s*=\s*(\d+)/.exec(text);
  if (!match) throw new Error(`no default PORT in ${dir}`);
  return Number(match[1]);
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
  'gitlab-sim': ['HOST', 'PORT'],
};

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** The host file a service mounts at a path inside its container. */
function mountedAt(service: string, target: string): string | undefined {
  for (const volume of services[service]?.volumes ?? []) {
    const [source, inside] = volume.split(':');
    if (inside === target && source?.startsWith('./')) return source.slice(2);
  }
  return undefined;
}

/** Container ports a service publishes. */
const containerPorts = (service: ComposeService) =>
  (service.ports ?? []).map((mapping) => Number(mapping.split(':').at(-1)));

describe('docker-compose.yml', () => {
  it('runs Postgres, NATS with JetStream, the simulator and every app', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'nats', 'gitlab-sim', 'migrate', ...SERVICES]),
    );
    expect(services['nats']!.command).toContain('-js');
  });

  it.each(APPS)('%s gets only variables it reads, and every one it needs', (app) => {
    const env = Object.keys(services[app]!.environment ?? {});
    const documented = documentedVariables(app);
    expect(env.filter((name) => !documented.has(name))).toEqual([]);
    expect(REQUIRED[app]!.filter((name) => !env.includes(name))).toEqual([]);
  });

  it('builds the one image once, from deploy/Dockerfile without build arguments', () => {
    const builders = Object.entries(services).filter(([, service]) => service.build);
    expect(builders.map(([name]) => name)).toEqual(['migrate']);
    const [, builder] = builders[0]!;
    expect(builder.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    expect(builder.image).toBe(IMAGE);
  });

  it.each(APPS)('%s runs the shared image with its own main.js', (app) => {
    const service = services[app]!;
    expect(service.image).toBe(IMAGE);
    expect(service.build).toBeUndefined();
    expect(service.command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    expect(exists(`apps/${app}/src/main.ts`)).toBe(true);
  });

  it('migrates every app that has migrations', () => {
    const withMigrations = APPS.filter((app) => exists(`apps/${app}/src/migrate.ts`));
    const script = services['migrate']!.command!.join(' ');
    const loop = /for app in ([a-z -]+);/.exec(script)?.[1]?.trim().split(/\s+/) ?? [];
    expect([...loop].sort()).toEqual([...withMigrations].sort());
    expect(script).toContain('node dist/apps/$$app/src/migrate.js || exit 1');
  });

  it('checks JetStream, not only the NATS server, on the monitoring port', () => {
    const nats = services['nats']!;
    expect(nats.image).toMatch(/^nats:2\.10-alpine$/);
    expect(nats.command).toEqual(expect.arrayContaining(['-m', '8222']));
    expect(nats.healthcheck?.test).toEqual([
      'CMD',
      'wget',
      '-q',
      '-O',
      '/dev/null',
      'http://127.0.0.1:8222/healthz?js-enabled-only=true',
    ]);
  });

  it.each(APPS)('%s has a healthcheck on /health/live of the port it listens on', (app) => {
    const service = services[app]!;
    expect(service.healthcheck?.test).toEqual(['CMD', 'node', 'deploy/healthcheck.js']);
    const port = Number(service.environment?.['PORT']);
    expect(port).toBe(defaultPort(app));
    expect(containerPorts(service)).toContain(port);
  });

  it('makes every dependant wait for healthy or completed dependencies', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        expect({ name, dependency, defined: Boolean(target) }).toEqual({ name, dependency, defined: true });
        if (condition === 'service_healthy') {
          expect({ dependency, healthcheck: Boolean(target!.healthcheck?.test) }).toEqual({
            dependency,
            healthcheck: true,
          });
        } else {
          expect({ name, dependency, condition }).toEqual({
            name,
            dependency,
            condition: 'service_completed_successfully',
          });
          expect(target!.restart).toBe('no');
        }
        // A service of the default set cannot wait for one of a profile.
        if (!service.profiles) expect({ dependency, profiles: target!.profiles }).toEqual({ dependency });
      }
    }
  });

  it.each(SERVICES)(
    '%s waits for Postgres, NATS, the migrations and, calling GitLab, the simulator',
    (app) => {
      const dependsOn = services[app]!.depends_on ?? {};
      expect(dependsOn).toMatchObject({
        postgres: { condition: 'service_healthy' },
        nats: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      if (services[app]!.environment?.['GITLAB_ALLOWED_HOSTS'] === 'gitlab-sim') {
        expect(dependsOn['gitlab-sim']).toEqual({ condition: 'service_healthy' });
      }
    },
  );

  it('sends traces to the collector only when asked to (observability profile)', () => {
    for (const app of SERVICES) {
      // Empty unless set when compose runs: the apps then load no tracing (libs/platform/src/telemetry/otel.ts).
      expect(services[app]!.environment?.['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe(
        '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
      );
    }
    expect(read('docker-compose.yml')).toContain(
      'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 docker compose --profile observability up',
    );
    expect(containerPorts(services['otel-collector']!)).toContain(4318);
  });

  it('runs the collector, Prometheus and Grafana in the observability profile only', () => {
    const profiled = Object.entries(services)
      .filter(([, service]) => service.profiles)
      .map(([name, service]) => [name, service.profiles]);
    expect(profiled).toEqual([
      ['otel-collector', ['observability']],
      ['prometheus', ['observability']],
      ['grafana', ['observability']],
    ]);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./'))
          expect({ name, source, exists: exists(source) }).toEqual({
            name,
            source,
            exists: true,
          });
      }
    }
  });
});

describe('observability configuration (deploy/observability)', () => {
  it('the collector receives OTLP/HTTP on 4318 and exports traces to debug, metrics to Prometheus', () => {
    const file = mountedAt('otel-collector', '/etc/otelcol-contrib/config.yaml');
    expect(file).toBe('deploy/observability/otel-collector.yaml');
    expect(services['otel-collector']!.command).toEqual(['--config=/etc/otelcol-contrib/config.yaml']);
    const config = parse(read(file!)) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      processors?: Record<string, unknown>;
      exporters: Record<string, unknown> & { prometheus: { endpoint: string } };
      service: {
        pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
      };
    };
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    const { traces, metrics } = config.service.pipelines;
    expect(traces?.exporters).toEqual(expect.arrayContaining([expect.stringMatching(/^(debug|logging)$/)]));
    expect(metrics?.exporters).toContain('prometheus');
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const receiver of pipeline.receivers) expect(config.receivers).toHaveProperty([receiver]);
      for (const processor of pipeline.processors ?? [])
        expect(config.processors).toHaveProperty([processor]);
      for (const exporter of pipeline.exporters) expect(config.exporters).toHaveProperty([exporter]);
    }
    // Prometheus scrapes what the prometheus exporter serves.
    const prometheus = parse(read('deploy/observability/prometheus.yml')) as PrometheusConfig;
    const port = config.exporters.prometheus.endpoint.split(':').at(-1);
    expect(prometheus.scrape_configs.flatMap(targetsOf)).toContain(`otel-collector:${port}`);
  });

  type PrometheusConfig = {
    rule_files: string[];
    scrape_configs: Array<{
      job_name: string;
      metrics_path?: string;
      static_configs: Array<{ targets: string[] }>;
    }>;
  };
  const targetsOf = (job: PrometheusConfig['scrape_configs'][number]) =>
    job.static_configs.flatMap((config) => config.targets);

  it("Prometheus scrapes every app's /metrics on the port it listens on, and loads the alert rules", () => {
    expect(mountedAt('prometheus', '/etc/prometheus/prometheus.yml')).toBe(
      'deploy/observability/prometheus.yml',
    );
    const config = parse(read('deploy/observability/prometheus.yml')) as PrometheusConfig;
    const appTargets = config.scrape_configs
      .filter((job) => !targetsOf(job).some((target) => target.startsWith('otel-collector:')))
      .flatMap((job) => {
        expect(job.metrics_path ?? '/metrics').toBe('/metrics');
        return targetsOf(job);
      });
    expect([...appTargets].sort()).toEqual(
      APPS.map((app) => `${app}:${services[app]!.environment!['PORT']}`).sort(),
    );
    // /metrics is served on the HTTP port: the platform's MetricsController, the simulator's route.
    expect(read('libs/platform/src/telemetry/metrics.controller.ts')).toContain("@Controller('metrics')");
    expect(read('apps/gitlab-sim/src/observability/health.controller.ts')).toContain("'/metrics'");

    expect(config.rule_files).toHaveLength(1);
    expect(mountedAt('prometheus', config.rule_files[0]!)).toBe('deploy/alerts/testkase-gitlab.rules.yaml');
  });

  it('Grafana gets the Prometheus datasource and the dashboard provisioned', () => {
    const provisioning = mountedAt('grafana', '/etc/grafana/provisioning');
    expect(provisioning).toBe('deploy/observability/grafana/provisioning');
    const datasources = parse(read(`${provisioning}/datasources/prometheus.yaml`)) as {
      datasources: Array<{ type: string; url: string; isDefault?: boolean }>;
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
    expect(containerPorts(services['prometheus']!)).toContain(9090);

    const providers = parse(read(`${provisioning}/dashboards/testkase-gitlab.yaml`)) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(providers.providers).toHaveLength(1);
    const dashboards = mountedAt('grafana', providers.providers[0]!.options.path);
    expect(dashboards).toBe('deploy/dashboards');
    const dashboard = JSON.parse(read(`${dashboards}/testkase-gitlab.json`)) as {
      templating: { list: Array<{ type: string; query: string }> };
    };
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ type: 'datasource', query: 'prometheus' }),
    );
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  /** Instructions with their continuation lines joined, comments dropped. */
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages = instructions.reduce<string[][]>((all, line) => {
    if (line.startsWith('FROM ')) all.push([line]);
    else all.at(-1)?.push(line);
    return all;
  }, []);
  const [build, runtime] = stages as [string[], string[]];
  const manifest = JSON.parse(read('package.json')) as {
    version: string;
    license: string;
    scripts: Record<string, string>;
  };

  it('builds with the project build in a build stage and keeps only production dependencies', () => {
    expect(stages).toHaveLength(2);
    expect(build[0]).toBe('FROM ${NODE_IMAGE} AS build');
    expect(dockerfile).toContain('ARG NODE_IMAGE=node:24');
    const run = build.filter((line) => line.startsWith('RUN ')).join(' ');
    expect(run).toContain('npm ci');
    expect(run).toMatch(/npm run build .*npm prune --omit=dev/);
  });

  it('copies what the build reads and not the benchmarks', () => {
    const copied = build
      .filter((line) => line.startsWith('COPY '))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(copied.some((source) => source.startsWith('bench'))).toBe(false);
    // Files the build script names (tsconfig projects, node scripts).
    const named = [...manifest.scripts['build']!.matchAll(/(?:-p |node )(\S+)/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(1);
    for (const file of named) expect(copied).toContain(file);
    // tsconfig.build.json compiles apps and libs, plus bench only when it is there.
    const tsconfig = JSON.parse(read('tsconfig.build.json')) as { extends: string; include: string[] };
    expect(copied).toContain(tsconfig.extends.replace('./', ''));
    for (const pattern of tsconfig.include) {
      const top = pattern.split('/')[0]!;
      if (top !== 'bench') expect(copied).toContain(top);
    }
  });

  it('is one image for every app: no APP argument, the command picks the app', () => {
    expect(dockerfile).not.toMatch(/\bAPP\b/);
    const cmd = runtime.find((line) => line.startsWith('CMD '));
    expect(cmd).toBeDefined();
    expect(cmd).not.toContain('main.js"]');
    expect(runtime.some((line) => line.startsWith('ENTRYPOINT '))).toBe(false);
  });

  it('runs as node over code owned by root', () => {
    const copies = runtime.filter((line) => line.startsWith('COPY '));
    expect(copies.length).toBeGreaterThanOrEqual(3);
    for (const copy of copies) expect(copy).not.toContain('--chown');
    expect(runtime.some((line) => /^RUN .*\bch(own|mod)\b/.test(line))).toBe(false);
    const user = runtime.findIndex((line) => line.startsWith('USER '));
    expect(runtime[user]).toBe('USER node');
    expect(runtime.findLastIndex((line) => line.startsWith('COPY '))).toBeLessThan(user);
    expect(copies.map((line) => line.split(/\s+/).at(-1))).toEqual(
      expect.arrayContaining(['./node_modules', './dist', './deploy/healthcheck.js']),
    );
  });

  it('checks /health/live with deploy/healthcheck.js', () => {
    const healthcheck = runtime.find((line) => line.startsWith('HEALTHCHECK '));
    expect(healthcheck).toMatch(/CMD \["node", "deploy\/healthcheck\.js"\]$/);
    expect(read('deploy/healthcheck.js')).toContain("path: '/health/live'");
  });

  it('carries the OCI labels, version and revision from build arguments', () => {
    const labels = Object.fromEntries(
      [
        ...runtime
          .filter((line) => line.startsWith('LABEL '))
          .join(' ')
          .matchAll(/(org\.opencontainers\.image\.[a-z]+)="([^"]*)"/g),
      ].map((match) => [match[1]!.replace('org.opencontainers.image.', ''), match[2]!]),
    );
    expect(Object.keys(labels).sort()).toEqual(
      ['description', 'licenses', 'revision', 'source', 'title', 'version'].sort(),
    );
    expect(labels).toMatchObject({
      title: 'testkase-gitlab',
      licenses: manifest.license,
      version: '${VERSION}',
      revision: '${REVISION}',
      source: '${SOURCE}',
    });
    expect(runtime).toContain(`ARG VERSION=${manifest.version}`);
    expect(runtime).toContain('ARG REVISION=unknown');
  });

  it.each(APPS)("%s's container target builds the shared image", (app) => {
    const project = JSON.parse(read(`apps/${app}/project.json`)) as {
      targets: Record<string, { options?: { command?: string } }>;
    };
    expect(project.targets['container']?.options?.command).toBe(
      `docker build -f deploy/Dockerfile -t ${IMAGE} .`,
    );
  });

  it('has a .dockerignore that keeps out benchmarks, tests and local state but not what it copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining([
        '.git',
        'node_modules',
        'dist',
        'bench',
        'e2e',
        'libs/testing',
        '**/*.spec.ts',
      ]),
    );
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    for (const source of sources) {
      expect({
        source,
        ignored: ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)),
      }).toEqual({
        source,
        ignored: false,
      });
    }
  });
});

describe('deploy/healthcheck.js', () => {
  const healthcheck = require(path.join(WORKSPACE_ROOT, 'deploy/healthcheck.js')) as {
    DEFAULT_PORTS: Record<string, number>;
    appOf(cmdline: string): string | undefined;
    portFor(env: Record<string, string | undefined>, cmdline: string): number | undefined;
  };
  /** Runs the script as the image does; resolves with its exit code. */
  const run = (env: Record<string, string>) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, 'deploy/healthcheck.js')], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: 'ignore',
      });
      child.on('exit', (code) => resolve(code));
    });

  it.each(APPS)("knows %s's default port", (app) => {
    expect(healthcheck.DEFAULT_PORTS[app]).toBe(defaultPort(app));
    expect(read(`apps/${app}/.env.example`)).toMatch(new RegExp(`^PORT=${defaultPort(app)}$`, 'm'));
  });

  it('probes PORT, or else the default port of the app PID 1 runs', () => {
    const cmdline = ['node', 'dist/apps/requirement-sync/src/main.js', ''].join('\0');
    expect(healthcheck.appOf(cmdline)).toBe('requirement-sync');
    expect(healthcheck.portFor({}, cmdline)).toBe(3002);
    expect(healthcheck.portFor({ PORT: '4100' }, cmdline)).toBe(4100);
    expect(healthcheck.portFor({}, ['sh', '-c', 'for app in a b; do …; done'].join('\0'))).toBeUndefined();
  });

  it('passes on a live app and fails once it is gone', async () => {
    const sim = await startApp('gitlab-sim', { env: { HOST: '127.0.0.1', GITLAB_SIM_SEED_DEMO: 'false' } });
    try {
      expect(await run({ PORT: String(sim.port) })).toBe(0);
    } finally {
      await sim.stop('SIGTERM', 10_000);
    }
    expect(await run({ PORT: String(sim.port) })).toBe(1);
  });

  it('fails when /health/live answers an error', async () => {
    const server: Server = createServer((_request, response) => response.writeHead(503).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(await run({ PORT: String((server.address() as AddressInfo).port) })).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
