/**
 * `npm run outbox-parked -- <list|replay> <schema> [--all | <id> …]` (`node
 * dist/libs/platform/src/outbox-parked.js`, in any app's image): the outbox rows a service's relay
 * parked because they could not be published (docs/ARCHITECTURE.md, "Outbox relay"), and their
 * replay once the cause is gone. Reads DATABASE_URL like the service whose schema it names.
 * `list` prints one JSON line per parked row; `replay` gives the named rows (or `--all`) back to the
 * relay and prints the ids. Exit code 0 on success, 1 on a usage or database error.
 */
import { Matches } from 'class-validator';
import { Client } from 'pg';

import { loadConfigOrExit } from './config/load-config';
import { assertIdentifier } from './database/data-source.factory';
import { listParkedOutboxRows, replayParkedOutboxRows } from './messaging/outbox-admin';

class OutboxParkedConfig {
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/testkase_gitlab';
}

const USAGE = 'usage: outbox-parked list <schema> | outbox-parked replay <schema> (--all | <id> …)\n';

async function main(args: string[]): Promise<number> {
  const [command, schema, ...rest] = args;
  if ((command !== 'list' && command !== 'replay') || !schema) {
    process.stderr.write(USAGE);
    return 1;
  }
  assertIdentifier(schema);
  const ids = rest.filter((arg) => arg !== '--all');
  if (command === 'replay' && (rest.includes('--all') ? ids.length > 0 : ids.length === 0)) {
    process.stderr.write(USAGE);
    return 1;
  }
  if (ids.some((id) => !/^\d{1,19}$/.test(id))) {
    process.stderr.write(`outbox-parked: row ids are integers\n${USAGE}`);
    return 1;
  }
  const config = loadConfigOrExit(OutboxParkedConfig, 'outbox-parked');
  const client = new Client({ connectionString: config.DATABASE_URL, application_name: 'outbox-parked' });
  await client.connect();
  const sql = {
    rows: async <T>(text: string, values: readonly unknown[]) =>
      (await client.query<T & object>(text, [...values])).rows,
  };
  try {
    if (command === 'list') {
      for (const row of await listParkedOutboxRows(sql, schema, 10_000)) {
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    } else {
      const replayed = await replayParkedOutboxRows(sql, schema, ids.length > 0 ? { ids } : 'all');
      process.stdout.write(`${JSON.stringify({ replayed })}\n`);
    }
    return 0;
  } finally {
    await client.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`outbox-parked: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
