#!/usr/bin/env node
// `npm start`: the whole stack on this machine with the GitLab simulator and a seeded demo.
// Installs dependencies if missing, makes sure Postgres and NATS run, builds, migrates, starts
// every app, connects the TestKase project `demo` to the simulator's demo/testkase-demo and prints
// what to try. Ctrl-C stops everything cleanly. The demo's database and streams are kept between
// runs; `npm start -- --reset` deletes them first (README, "What tests and `npm start` leave").
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

const { ROOT, build, ensureDependencies, ensureServices, log, run } = require('./lib/prerequisites');

const DEV = {
  CORE_API_TOKEN: process.env.CORE_API_TOKEN || 'dev-core-token',
  // The admin API (docs/ADMIN-API.md) has its own token; never the core one.
  ADMIN_API_TOKEN: process.env.ADMIN_API_TOKEN || 'dev-admin-token-local-only',
  // Development only: a fixed, publicly known key. Production keys come from a Kubernetes Secret.
  TOKEN_ENCRYPTION_KEYS:
    process.env.TOKEN_ENCRYPTION_KEYS || 'dev1:ZGV2ZWxvcG1lbnQtb25seS1rZXktMzItYnl0ZXMhISE=',
  DATABASE_URL: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/testkase_gitlab',
  NATS_URL: process.env.NATS_URL || 'nats://127.0.0.1:4222',
  PUBLIC_WEBHOOK_BASE_URL: process.env.PUBLIC_WEBHOOK_BASE_URL || 'http://127.0.0.1:3000',
  // The simulator runs on loopback: allow private addresses for this local stack only.
  GITLAB_ALLOW_PRIVATE_NETWORK: 'true',
  LOG_LEVEL: process.env.LOG_LEVEL || 'info',
};
const SIM = {
  url: 'http://127.0.0.1:3080',
  maintainerToken: process.env.GITLAB_SIM_MAINTAINER_TOKEN || 'glpat-sim-maintainer-0000000001',
  developerToken: process.env.GITLAB_SIM_DEVELOPER_TOKEN || 'glpat-sim-developer-0000000002',
};

const APPS = [
  { name: 'gitlab-sim', port: 3080, migrate: false },
  { name: 'webhook-gateway', port: 3000, migrate: true },
  { name: 'connection-service', port: 3001, migrate: true },
  { name: 'requirement-sync', port: 3002, migrate: true },
  { name: 'defect-sync', port: 3003, migrate: true },
  { name: 'comment-relay', port: 3004, migrate: true },
];

const children = [];
const COLORS = [35, 32, 33, 34, 36, 31];

function startApp(app, index) {
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', path.join(ROOT, 'dist/apps', app.name, 'src/main.js')],
    {
      cwd: ROOT,
      env: { ...process.env, ...DEV, PORT: String(app.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tag = `\x1b[${COLORS[index % COLORS.length]}m${app.name.padEnd(18)}\x1b[0m│ `;
  const relay = (stream) => (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(`${tag}${line}\n`);
  };
  child.stdout.on('data', relay(process.stdout));
  child.stderr.on('data', relay(process.stderr));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${app.name} exited (${signal || code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.push({ app, child });
}

async function waitReady(app, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const endpoint = `http://127.0.0.1:${app.port}/health/ready`;
  while (Date.now() < deadline) {
    const ok = await fetch(endpoint)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${app.name} is not ready at ${endpoint} after ${timeoutMs / 1000} s`);
}

async function connectDemo() {
  const response = await fetch('http://127.0.0.1:3001/v1/projects/demo/connection', {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV.CORE_API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      platform: 'gitlab',
      instanceUrl: SIM.url,
      projectRef: 'demo/testkase-demo',
      token: SIM.maintainerToken,
    }),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`connecting the demo project failed: ${response.status} ${body}`);
  return JSON.parse(body);
}

let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  log('stopped');
  process.exit(code);
}

/** `--reset`: deletes what earlier runs of `npm start` kept: the streams, the KV bucket, the database. */
async function resetLocalState() {
  const { connect } = require('nats');
  const { Client } = require('pg');
  const { STREAMS, KV_BUCKETS } = require(path.join(ROOT, 'dist/libs/contracts/src/messaging/streams.js'));
  const prefix = process.env.NATS_PREFIX || '';
  const named = (name) => (prefix ? `${prefix}_${name}` : name);
  const nc = await connect({ servers: DEV.NATS_URL });
  try {
    const jsm = await nc.jetstreamManager();
    const names = [
      ...Object.values(STREAMS).map((stream) => named(stream.name)),
      ...Object.values(KV_BUCKETS).map((bucket) => `KV_${named(bucket)}`),
    ];
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
    log(`reset: deleted the streams ${names.join(', ')}`);
  } finally {
    await nc.close();
  }
  const admin = new URL(DEV.DATABASE_URL);
  const database = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
    log(`reset: dropped the database ${database}`);
  } finally {
    await client.end();
  }
}

async function main() {
  ensureDependencies();
  await ensureServices();
  build();
  if (process.argv.includes('--reset')) await resetLocalState();
  for (const app of APPS.filter((a) => a.migrate)) {
    log(`migrating ${app.name}`);
    run(`node dist/apps/${app.name}/src/migrate.js`, { env: { ...process.env, ...DEV } });
  }
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  APPS.forEach(startApp);
  for (const app of APPS) await waitReady(app);
  let connection;
  try {
    connection = await connectDemo();
  } catch (error) {
    log(`\x1b[33m${error.message}\x1b[0m`);
  }

  const line = '─'.repeat(78);
  process.stdout.write(`
${line}
 testkase-gitlab is running (Ctrl-C stops everything)

 Apps                                  health                         API docs
${APPS.map((a) => `  ${a.name.padEnd(20)} http://127.0.0.1:${a.port}   /health/ready   http://127.0.0.1:${a.port}/docs`).join('\n')}

 Core API token (dev only):            ${DEV.CORE_API_TOKEN}
 Admin API token (dev only):           ${DEV.ADMIN_API_TOKEN}  (docs/ADMIN-API.md)
 GitLab simulator:                     ${SIM.url}  (project demo/testkase-demo)
   integration-bot (Maintainer) token: ${SIM.maintainerToken}
   dev-alice (Developer) token:        ${SIM.developerToken}
 Demo connection:                      ${connection ? `${connection.connectionId} (${connection.status})` : 'not connected (see above)'}

 Try it:
  # the requirements imported from the demo project
  curl -s -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' http://127.0.0.1:3002/v1/projects/demo/requirements | head -c 1500; echo

  # edit issue 1 as dev-alice, through GitLab's ordinary REST API (the webhook fires)
  curl -s -X PUT -H 'PRIVATE-TOKEN: ${SIM.developerToken}' -H 'Content-Type: application/json' \\
    -d '{"title":"Edited by dev-alice","add_labels":"priority::critical"}' \\
    ${SIM.url}/api/v4/projects/demo%2Ftestkase-demo/issues/1 >/dev/null

  # …and see the requirement follow within a second
  curl -s -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' 'http://127.0.0.1:3002/v1/projects/demo/requirements?limit=100' | grep -o '"title":"Edited by dev-alice"[^}]*'

  # the connection, as TestKase core sees it
  curl -s -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' http://127.0.0.1:3001/v1/projects/demo/connection; echo

  # push a defect to GitLab (one issue per defect: pushing again answers the same link)
  curl -s -X POST -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{"title":"Checkout fails with an expired card","description":"<p>Pay with an <b>expired</b> card</p>","priority":"Critical","status":"Open","url":"https://testkase.example.com/demo/defects/DEF-1","context":{"testCaseKey":"TC-1","cycle":"Regression"}}' \\
    http://127.0.0.1:3003/v1/projects/demo/defects/DEF-1/push; echo

  # close its issue as dev-alice on GitLab (the iid from the answer), then see the defect follow
  curl -s -X PUT -H 'PRIVATE-TOKEN: ${SIM.developerToken}' -d state_event=close ${SIM.url}/api/v4/projects/demo%2Ftestkase-demo/issues/<iid> >/dev/null
  curl -s -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' http://127.0.0.1:3003/v1/projects/demo/defects/DEF-1; echo

  # comment on the defect from TestKase (a note on its issue; "/close" in it stays text)
  curl -s -X POST -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{"commentId":"CMT-1","author":"Ada Lovelace","body":"<p>Reproduced on staging.</p><p>/close</p>"}' \\
    http://127.0.0.1:3004/v1/projects/demo/defects/DEF-1/comments; echo

  # link a test case to a requirement (the id from the requirements list): one comment on its issue lists them
  curl -s -X PUT -H 'Authorization: Bearer ${DEV.CORE_API_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{"key":"TC-1","title":"Pay with a saved card","url":"https://testkase.example.com/demo/test-cases/TC-1","status":"Passed"}' \\
    http://127.0.0.1:3004/v1/projects/demo/requirements/<requirementId>/test-cases/TC-1; echo
${line}
`);
}

main().catch((error) => {
  process.stderr.write(`\n${error.message}\n`);
  void stopAll(1);
});
