/**
 * `node dist/libs/platform/src/setup-jetstream.js` (in every app's image): creates every JetStream
 * stream and KV bucket of the system, or brings existing ones to the JETSTREAM_* settings
 * (replicas, max_bytes, max_age). The Helm chart runs it as a pre-install/pre-upgrade hook Job
 * when `jetstream.manage` is `job`, with credentials allowed to administer streams; the apps then
 * run with JETSTREAM_MANAGE=false (docs/RUNBOOK.md, "JetStream"). Reads the NATS_* and JETSTREAM_*
 * variables of the apps. Exit code 0 on success, 1 on a configuration or NATS error.
 */
import { ServiceConfig } from './config/base.config';
import { loadConfigOrExit } from './config/load-config';
import { setupJetStream } from './messaging/jetstream-setup';
import { NatsClient } from './messaging/nats-client';
import { jetstreamFromConfig } from './platform.module';
import { createLogger } from './telemetry/logger';

const TIMEOUT_MS = 60_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit(ServiceConfig, 'setup-jetstream');
  const logger = createLogger({ service: 'setup-jetstream', level: config.LOG_LEVEL });
  const nats = new NatsClient(
    {
      servers: config.NATS_URL,
      name: 'setup-jetstream',
      prefix: config.NATS_PREFIX,
      credsFile: config.NATS_CREDS_FILE,
      tlsCaFile: config.NATS_TLS_CA_FILE,
    },
    logger,
  );
  const timer = setTimeout(() => {
    process.stderr.write(`setup-jetstream: NATS not reachable within ${TIMEOUT_MS / 1000} s\n`);
    process.exit(1);
  }, TIMEOUT_MS);
  try {
    await nats.ready();
    await setupJetStream(nats.js, nats.jsm, nats.naming, jetstreamFromConfig(config), logger);
    logger.info('JetStream streams and buckets are set up');
  } finally {
    clearTimeout(timer);
    await nats.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`setup-jetstream: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
