#!/usr/bin/env node
// `npm test`: every test (unit, integration, end-to-end) against the real Postgres and NATS.
// Installs dependencies and starts the local servers when needed, builds, then runs Jest once
// over every project. Extra arguments go to Jest (e.g. `npm test -- apps/requirement-sync`).
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const { ROOT, build, ensureDependencies, ensureServices, log } = require('./lib/prerequisites');

async function main() {
  ensureDependencies();
  await ensureServices();
  build();
  log('running the test suite');
  const started = Date.now();
  const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const result = spawnSync(process.execPath, [jest, '--ci', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  log(`test suite finished in ${Math.round((Date.now() - started) / 1000)} s`);
  process.exit(result.status ?? 1);
}

main().catch((error) => {
  process.stderr.write(`\n${error.message}\n`);
  process.exit(1);
});
