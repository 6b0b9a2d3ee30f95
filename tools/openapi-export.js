#!/usr/bin/env node
// `npm run openapi:export`: writes the OpenAPI document of each service's HTTP API to
// docs/openapi/<service>.json (or to `--out <dir>`). The documents are built from the compiled apps
// (dist/, `npm run build` first) without listening and without connecting to anything: each app
// module is created with a configuration whose database and NATS point at a closed loopback port,
// and never initialised. e2e/platform/openapi.e2e-spec.ts regenerates them and fails on a
// difference from the committed files or a breaking change (libs/testing/src/openapi-breaking.ts).
'use strict';

const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** The services with an HTTP API for TestKase core, and their config class. */
const SERVICES = {
  'connection-service': 'ConnectionConfig',
  'requirement-sync': 'RequirementSyncConfig',
  'defect-sync': 'DefectSyncConfig',
  'comment-relay': 'CommentRelayConfig',
};

/** Values for the required settings only; nothing is ever connected to. */
const ENV = {
  DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
  NATS_URL: 'nats://127.0.0.1:1',
  CORE_API_TOKEN: 'openapi-export',
  TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  PUBLIC_WEBHOOK_BASE_URL: 'https://hooks.example.com',
  LOG_LEVEL: 'fatal',
};

const distModule = (file) => require(path.join(DIST, file));

/** The document of one service, as startHttpApp serves it at /docs/json. */
async function documentOf(service) {
  require('reflect-metadata');
  const { NestFactory } = require('@nestjs/core');
  const { FastifyAdapter } = require('@nestjs/platform-fastify');
  const { loadConfig } = distModule('libs/platform/src/config/index.js');
  const { buildOpenApiDocument, createLogger } = distModule('libs/platform/src/index.js');
  const configClass = distModule(`apps/${service}/src/config/${service}.config.js`)[SERVICES[service]];
  const { AppModule } = distModule(`apps/${service}/src/app.module.js`);
  const { API_INFO } = distModule(`apps/${service}/src/bootstrap.js`);
  const config = loadConfig(configClass, ENV, service);
  const logger = createLogger({ service, level: 'fatal' });
  const app = await NestFactory.create(AppModule.forRoot(config, logger), new FastifyAdapter(), {
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app, API_INFO);
  } finally {
    await app.close();
  }
}

/** Every service's document, by service name. */
async function exportOpenApi() {
  const documents = {};
  for (const service of Object.keys(SERVICES)) documents[service] = await documentOf(service);
  return documents;
}

const serialize = (document) => `${JSON.stringify(document, null, 2)}\n`;

async function main() {
  const outFlag = process.argv.indexOf('--out');
  const out = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(ROOT, 'docs', 'openapi');
  mkdirSync(out, { recursive: true });
  const documents = await exportOpenApi();
  for (const [service, document] of Object.entries(documents)) {
    writeFileSync(path.join(out, `${service}.json`), serialize(document));
    console.log(
      `${path.relative(ROOT, path.join(out, `${service}.json`))}: ${Object.keys(document.paths).length} paths`,
    );
  }
  // Whatever the apps' modules left running (timers, pools never connected) must not keep us.
  process.exit(0);
}

module.exports = { SERVICES, exportOpenApi, serialize };

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
