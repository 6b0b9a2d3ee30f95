#!/usr/bin/env node
// The image's HEALTHCHECK (deploy/Dockerfile): GET /health/live of the app this container runs.
// The port is PORT, or else the default port of the app PID 1 runs (`node dist/apps/<app>/src/main.js`),
// so one image checks every app. Exit 0 when the app answers 2xx, 1 otherwise.
'use strict';

const { readFileSync } = require('node:fs');
const http = require('node:http');

/** Each app's default PORT (its config class and .env.example). */
const DEFAULT_PORTS = {
  'webhook-gateway': 3000,
  'connection-service': 3001,
  'requirement-sync': 3002,
  'defect-sync': 3003,
  'comment-relay': 3004,
  'gitlab-sim': 3080,
};

/** The app a command line runs (NUL-separated, as in /proc/<pid>/cmdline), or undefined. */
function appOf(cmdline) {
  const match = /dist\/apps\/([a-z0-9-]+)\/src\/main\.js/.exec(cmdline.split('\0').join(' '));
  return match ? match[1] : undefined;
}

/** The port to probe: PORT, or the default port of the app in the command line. */
function portFor(env, cmdline) {
  if (env.PORT) return Number(env.PORT);
  const app = appOf(cmdline);
  return app ? DEFAULT_PORTS[app] : undefined;
}

function probe(port, timeoutMs) {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/health/live', timeout: timeoutMs },
      (response) => {
        response.resume();
        resolve(response.statusCode >= 200 && response.statusCode < 300);
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(false));
  });
}

async function main() {
  let cmdline = '';
  try {
    cmdline = readFileSync('/proc/1/cmdline', 'utf8');
  } catch {
    // Not Linux or no /proc: PORT must be set.
  }
  const port = portFor(process.env, cmdline);
  if (!port) {
    process.stderr.write('healthcheck: set PORT (no app found in the command of PID 1)\n');
    process.exit(1);
  }
  const healthy = await probe(port, 2000);
  process.exit(healthy ? 0 : 1);
}

module.exports = { DEFAULT_PORTS, appOf, portFor, probe };

if (require.main === module) void main();
