// Shared by `npm start`, `npm test` and .ci/run: dependencies installed, Postgres and NATS up.
// Plain CommonJS with no dependencies: it runs before `npm ci`.
'use strict';

const { execSync, spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

function log(message) {
  process.stdout.write(`\x1b[36m▸\x1b[0m ${message}\n`);
}

function run(command, options = {}) {
  const result = spawnSync(command, { shell: true, stdio: 'inherit', cwd: ROOT, ...options });
  if (result.status !== 0) {
    throw new Error(`\`${command}\` failed with exit code ${result.status}`);
  }
}

/** Installs dependencies when node_modules is missing or older than package-lock.json. */
function ensureDependencies() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  const stale =
    !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
  if (!stale) return;
  log('installing dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
}

function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Postgres on 5432 and NATS (JetStream) on 4222: started with the machine's own commands when installed but stopped. */
async function ensureServices({ postgresPort = 5432, natsPort = 4222 } = {}) {
  if (!(await portOpen(postgresPort))) {
    const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
    if (clusters.length && commandExists('pg_ctlcluster')) {
      log(`starting PostgreSQL ${clusters[0]}`);
      try {
        execSync(`pg_ctlcluster --skip-systemctl-redirect ${clusters[0]} main start`, { stdio: 'inherit' });
      } catch {
        // reported below
      }
    }
    if (!(await waitForPort(postgresPort, 20_000))) {
      throw new Error(
        `PostgreSQL is not reachable on 127.0.0.1:${postgresPort}.\n` +
          '  Debian/Ubuntu: sudo apt-get install -y postgresql && sudo pg_ctlcluster 15 main start\n' +
          '  macOS: brew install postgresql@15 && brew services start postgresql@15\n' +
          '  Docker: docker compose up -d postgres\n' +
          '  It must accept user postgres without a password from 127.0.0.1 (trust), or set DATABASE_URL.',
      );
    }
  }
  if (!(await portOpen(natsPort))) {
    if (commandExists('nats-server') || existsSync('/usr/sbin/nats-server')) {
      log('starting NATS with JetStream');
      const storeDir = existsSync('/var/lib/nats-server')
        ? '/var/lib/nats-server'
        : path.join(ROOT, 'tmp', 'nats-store');
      try {
        if (commandExists('start-stop-daemon')) {
          execSync(
            'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- ' +
              `-a 127.0.0.1 -p ${natsPort} -js -sd ${storeDir} -l /var/log/nats-server.log`,
            { stdio: 'inherit' },
          );
        } else {
          const { spawn } = require('node:child_process');
          spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir], {
            detached: true,
            stdio: 'ignore',
          }).unref();
        }
      } catch {
        // reported below
      }
    }
    if (!(await waitForPort(natsPort, 15_000))) {
      throw new Error(
        `NATS is not reachable on 127.0.0.1:${natsPort}.\n` +
          '  Debian/Ubuntu: sudo apt-get install -y nats-server && nats-server -js -a 127.0.0.1 -p 4222 &\n' +
          '  macOS: brew install nats-server && nats-server -js &\n' +
          '  Docker: docker compose up -d nats\n' +
          '  JetStream must be enabled (-js), or set NATS_URL.',
      );
    }
  }
}

function build() {
  log('building (tsc)');
  run('npm run build --silent');
}

module.exports = { ROOT, log, run, ensureDependencies, ensureServices, build, portOpen, waitForPort };
