import { describeLeftovers, leftoversOfRun, removeLeftovers, testServers } from '../harness/leftovers';

/**
 * Jest globalTeardown of every project (jest.preset.js): every test removes the streams, buckets and
 * databases it created (TestEnvironment.dispose, which TestStack.stop calls), also when it fails.
 * Whatever of this run is still there is removed now, and the run fails (exit code 1) naming it.
 */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env['TEST_RUN_ID'];
  if (!runId) return;
  const servers = testServers();
  let leftovers;
  try {
    leftovers = await leftoversOfRun(runId, servers);
  } catch (error) {
    process.stderr.write(
      `\n[test leftovers] check skipped (${String((error as Error)?.message ?? error)})\n`,
    );
    return;
  }
  if (leftovers.streams.length === 0 && leftovers.databases.length === 0) return;
  await removeLeftovers(leftovers, servers).catch(() => undefined);
  process.stderr.write(
    `\n[test leftovers] FAILED: this run (${runId}) left ${describeLeftovers(leftovers)}. ` +
      'Every test must dispose its TestEnvironment / stop its TestStack in afterAll (removed now).\n',
  );
  process.exitCode = 1;
}
