import path from 'node:path';

import {
  describeLeftovers,
  removeLeftovers,
  removeOldTestLogs,
  staleLeftovers,
  TEST_RUN_ID,
  testServers,
} from '../harness/leftovers';

/** How old a test resource of another run must be before the sweep removes it. */
export const SWEEP_MIN_AGE_MS = 2 * 60 * 60 * 1000;
const LOG_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');

/**
 * Jest globalSetup of every project (jest.preset.js): gives the run its id, which every test
 * environment's database and NATS prefix carry (the teardown checks that none is left), and removes
 * what earlier runs that crashed or were killed left: test streams, KV buckets and databases more
 * than two hours old (`TEST_SWEEP_MIN_AGE_MINUTES`), never one of this run, never a database in use
 * — another run may be going on on this machine. Servers that are down are skipped: unit tests need
 * neither.
 */
export default async function globalSetup(): Promise<void> {
  process.env['TEST_RUN_ID'] = TEST_RUN_ID;
  const minutes = Number(process.env['TEST_SWEEP_MIN_AGE_MINUTES']);
  const minAgeMs = Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : SWEEP_MIN_AGE_MS;
  const servers = testServers();
  removeOldTestLogs(path.join(WORKSPACE_ROOT, 'tmp', 'test-logs'), LOG_MAX_AGE_MS);
  try {
    const stale = await staleLeftovers({ ...servers, minAgeMs, currentRunId: TEST_RUN_ID });
    if (stale.streams.length === 0 && stale.databases.length === 0) return;
    await removeLeftovers(stale, servers);
    process.stderr.write(`\n[test leftovers] removed what earlier runs left: ${describeLeftovers(stale)}\n`);
  } catch (error) {
    process.stderr.write(
      `\n[test leftovers] sweep skipped (${String((error as Error)?.message ?? error)})\n`,
    );
  }
}
