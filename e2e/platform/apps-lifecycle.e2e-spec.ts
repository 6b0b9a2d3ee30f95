import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  createTestEnvironment,
  migrateApp,
  startApp,
  WORKSPACE_ROOT,
  type AppName,
  type RunningApp,
  type TestEnvironment,
} from '@testkase/testing';

const SERVICES: Exclude<AppName, 'gitlab-sim'>[] = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
];

/** The services whose OpenAPI document is committed in docs/openapi. */
const COMMITTED_OPENAPI = new Set<string>([
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
]);

describe('every app starts, reports its health, serves metrics and docs, and stops cleanly', () => {
  let environment: TestEnvironment;

  beforeAll(async () => {
    environment = await createTestEnvironment('lifecycle');
  });

  afterAll(async () => {
    await environment.dispose();
  });

  it.each([...SERVICES, 'gitlab-sim' as const])('%s', async (app) => {
    const env = { ...environment.baseEnv, GITLAB_SIM_SEED_DEMO: 'false' };
    if (app !== 'gitlab-sim') await migrateApp(app, env);
    const running: RunningApp = await startApp(app, { env, waitFor: 'ready' });
    try {
      const live = await fetch(`${running.url}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${running.url}/health/ready`);
      expect(ready.status).toBe(200);

      const metrics = await fetch(`${running.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
      expect(await metrics.text()).toMatch(/process_cpu_user_seconds_total/);

      const docs = await fetch(`${running.url}/docs/json`);
      expect(docs.status).toBe(200);
      const openapi = (await docs.json()) as { openapi?: string; swagger?: string; paths?: object };
      expect(openapi.openapi ?? openapi.swagger).toBeTruthy();
      if (COMMITTED_OPENAPI.has(app)) {
        // What the app serves is the committed contract (docs/openapi, `npm run openapi:export`).
        const committed = readFileSync(path.join(WORKSPACE_ROOT, 'docs', 'openapi', `${app}.json`), 'utf8');
        expect(openapi).toEqual(JSON.parse(committed));
      }

      const unknown = await fetch(`${running.url}/definitely-not-a-route`);
      expect(unknown.status).toBe(404);
    } finally {
      const started = Date.now();
      const code = await running.stop('SIGTERM', 12_000);
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });
});

describe('a missing or malformed variable stops start-up with a message naming it', () => {
  const mainOf = (app: AppName) => path.join(WORKSPACE_ROOT, 'dist', 'apps', app, 'src', 'main.js');
  const run = (app: AppName, env: Record<string, string>) =>
    spawnSync(process.execPath, [mainOf(app)], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  const valid = {
    CORE_API_TOKEN: 'x',
    TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  };

  it.each<[AppName, Record<string, string>, string[]]>([
    ['requirement-sync', { CORE_API_TOKEN: '' }, ['CORE_API_TOKEN']],
    ['defect-sync', {}, ['CORE_API_TOKEN']],
    ['comment-relay', { CORE_API_TOKEN: '' }, ['CORE_API_TOKEN']],
    ['connection-service', { CORE_API_TOKEN: 'x' }, ['TOKEN_ENCRYPTION_KEYS']],
    ['connection-service', { ...valid, TOKEN_ENCRYPTION_KEYS: 'not-a-key-ring' }, ['TOKEN_ENCRYPTION_KEYS']],
    ['webhook-gateway', { DATABASE_URL: 'mysql://nope' }, ['DATABASE_URL']],
    ['webhook-gateway', { NATS_URL: 'http://127.0.0.1:4222' }, ['NATS_URL']],
    ['requirement-sync', { ...valid, PORT: 'eighty' }, ['PORT']],
    [
      'requirement-sync',
      { ...valid, LOG_LEVEL: 'chatty', DB_POOL_SIZE: '0', NATS_PREFIX: 'a b' },
      ['LOG_LEVEL', 'DB_POOL_SIZE', 'NATS_PREFIX'],
    ],
    ['gitlab-sim', { PORT: '-1' }, ['PORT']],
  ])('%s with %j', (app, env, variables) => {
    const result = run(app, env);
    expect(result.status).toBe(1);
    for (const variable of variables) expect(result.stderr).toContain(`${variable}:`);
  });
});
