import { tokenHint } from '@testkase/util';

import { loadSimConfig } from './config/sim.config';
import { createLogger, createSimServer } from './server';

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const config = loadSimConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const server = await createSimServer(config, { logger });
  await server.listen();
  if (config.GITLAB_SIM_SEED_DEMO) {
    logger.info(
      {
        project: 'demo/testkase-demo',
        maintainer: { username: 'integration-bot', tokenHint: tokenHint(config.GITLAB_SIM_MAINTAINER_TOKEN) },
        developer: { username: 'dev-alice', tokenHint: tokenHint(config.GITLAB_SIM_DEVELOPER_TOKEN) },
      },
      'demo seeded (tokens: GITLAB_SIM_MAINTAINER_TOKEN, GITLAB_SIM_DEVELOPER_TOKEN)',
    );
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took longer than 10 s, exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    server.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  // The logger may not exist yet (bad configuration): write one JSON line to stderr.
  process.stderr.write(
    `${JSON.stringify({ level: 60, msg: 'gitlab-sim failed to start', err: String(error) })}\n`,
  );
  process.exit(1);
});
