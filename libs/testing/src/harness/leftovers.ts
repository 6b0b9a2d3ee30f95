import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { connect, type JetStreamManager } from 'nats';
import { Client } from 'pg';

// This file is also loaded by Jest's globalSetup/globalTeardown, outside the module mapper: it
// imports packages and relative files only, never a `@testkase/*` alias.

/**
 * The id of this test run: the run's start (Unix seconds, 8 hex digits) and 2 random hex digits.
 * Jest's globalSetup sets `TEST_RUN_ID` once for the whole run, so every worker shares it; a process
 * started without it gets its own.
 */
const givenRunId = process.env['TEST_RUN_ID'] ?? '';
export const TEST_RUN_ID: string = /^[0-9a-f]{10}$/.test(givenRunId) ? givenRunId : newRunId();

export function newRunId(now = Date.now()): string {
  return `${Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0')}${randomBytes(1).toString('hex')}`;
}

/** A fresh id for one test's resources: the run id and 6 random hex digits (16 hex digits in all). */
export const newTestResourceId = (runId = TEST_RUN_ID): string => `${runId}${randomBytes(3).toString('hex')}`;

/**
 * NATS prefixes of tests: `t` and 8 to 16 hex digits (older runs used 8 or 10 random digits; the
 * current form is {@link newTestResourceId}). Streams are `<prefix>_<NAME>`, KV buckets
 * `KV_<prefix>_<NAME>`, object stores `OBJ_<prefix>_<NAME>`.
 */
const TEST_STREAM = /^(?:KV_|OBJ_)?(t[0-9a-f]{8,16})_/;
/** Test databases: `tk_<label>_<id>` (libs/testing) and `tk_platform_<id>` (libs/platform/test). */
const TEST_DATABASE = /^tk_(?:[a-z0-9_]*_)?([0-9a-f]{8,16})$/;

/** The run a resource id belongs to, and when that run started, if the id is of the current form. */
function runOf(id: string): { runId: string; startedAt: number } | undefined {
  if (id.length !== 16) return undefined;
  return { runId: id.slice(0, 10), startedAt: parseInt(id.slice(0, 8), 16) * 1000 };
}

export interface ServersOptions {
  natsUrl: string;
  postgresUrl: string;
}

/** The machine's servers the tests use (`TEST_NATS_URL`, `TEST_DATABASE_URL`). */
export const testServers = (): ServersOptions => ({
  natsUrl: process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
  postgresUrl: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
});

export interface LeftoverStream {
  name: string;
  prefix: string;
  createdAt: number;
  bytes: number;
}

export interface LeftoverDatabase {
  name: string;
  /** When it was created, if known (from its name, else from its files). */
  createdAt?: number;
  sessions: number;
}

export interface LeftoverReport {
  streams: LeftoverStream[];
  databases: LeftoverDatabase[];
  bytes: number;
}

async function withJetStream<T>(natsUrl: string, use: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: natsUrl, name: 'test-leftovers', timeout: 5_000 });
  try {
    return await use(await nc.jetstreamManager());
  } finally {
    await nc.close();
  }
}

async function withPostgres<T>(postgresUrl: string, use: (client: Client) => Promise<T>): Promise<T> {
  const admin = new URL(postgresUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Every stream (KV buckets and object stores included) whose name carries a test prefix. */
export async function listTestStreams(natsUrl: string): Promise<LeftoverStream[]> {
  return withJetStream(natsUrl, async (jsm) => {
    const out: LeftoverStream[] = [];
    for await (const info of jsm.streams.list()) {
      const prefix = TEST_STREAM.exec(info.config.name)?.[1];
      if (!prefix) continue;
      out.push({
        name: info.config.name,
        prefix,
        createdAt: Date.parse(info.created),
        bytes: info.state.bytes,
      });
    }
    return out;
  });
}

/** Every database whose name is that of a test database. */
export async function listTestDatabases(postgresUrl: string): Promise<LeftoverDatabase[]> {
  return withPostgres(postgresUrl, async (client) => {
    const { rows } = await client.query<{ name: string; oid: number; sessions: string }>(
      `SELECT d.datname AS name, d.oid::int AS oid,
              (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname) AS sessions
         FROM pg_database d WHERE d.datname LIKE 'tk\\_%' AND NOT d.datistemplate`,
    );
    const out: LeftoverDatabase[] = [];
    for (const row of rows) {
      const id = TEST_DATABASE.exec(row.name)?.[1];
      if (!id) continue;
      // PG_VERSION is written once, when the database is created (reading it needs a superuser,
      // which the local test server's `postgres` is); else the start of the run its name carries.
      const createdAt =
        (await client
          .query<{ modification: Date }>(`SELECT (pg_stat_file($1)).modification`, [
            `base/${row.oid}/PG_VERSION`,
          ])
          .then((result) => result.rows[0]?.modification.getTime())
          .catch(() => undefined)) ?? runOf(id)?.startedAt;
      out.push({ name: row.name, createdAt, sessions: Number(row.sessions) });
    }
    return out;
  });
}

/** Deletes every stream, KV bucket and object store of one NATS prefix; answers what it removed. */
export async function removeNatsPrefix(natsUrl: string, prefix: string): Promise<string[]> {
  if (!prefix) throw new Error('refusing to remove the streams of an empty prefix');
  return withJetStream(natsUrl, async (jsm) => {
    const names: string[] = [];
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if ([`${prefix}_`, `KV_${prefix}_`, `OBJ_${prefix}_`].some((start) => name.startsWith(start)))
        names.push(name);
    }
    for (const name of names) {
      await jsm.streams.delete(name).catch((error: unknown) => {
        if (!/not found/i.test(String((error as Error)?.message))) throw error;
      });
    }
    return names;
  });
}

async function deleteStreams(natsUrl: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withJetStream(natsUrl, async (jsm) => {
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  });
}

async function dropDatabases(postgresUrl: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withPostgres(postgresUrl, async (client) => {
    for (const name of names)
      await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  });
}

const streamOfRun = (stream: LeftoverStream, runId: string) => runOf(stream.prefix.slice(1))?.runId === runId;
const databaseOfRun = (database: LeftoverDatabase, runId: string) =>
  runOf(TEST_DATABASE.exec(database.name)?.[1] ?? '')?.runId === runId;

const report = (streams: LeftoverStream[], databases: LeftoverDatabase[]): LeftoverReport => ({
  streams,
  databases,
  bytes: streams.reduce((sum, stream) => sum + stream.bytes, 0),
});

/** What a run left on the servers: its streams, buckets and databases. */
export async function leftoversOfRun(runId: string, servers: ServersOptions): Promise<LeftoverReport> {
  const [streams, databases] = await Promise.all([
    listTestStreams(servers.natsUrl),
    listTestDatabases(servers.postgresUrl),
  ]);
  return report(
    streams.filter((stream) => streamOfRun(stream, runId)),
    databases.filter((database) => databaseOfRun(database, runId)),
  );
}

/** Removes what {@link leftoversOfRun} found. */
export async function removeLeftovers(leftovers: LeftoverReport, servers: ServersOptions): Promise<void> {
  await deleteStreams(
    servers.natsUrl,
    leftovers.streams.map((stream) => stream.name),
  );
  await dropDatabases(
    servers.postgresUrl,
    leftovers.databases.map((database) => database.name),
  );
}

/**
 * Leftovers of earlier test runs that crashed or were killed: test streams, buckets and databases
 * created more than `minAgeMs` ago, never of `currentRunId`, and never a database with a session
 * (a test of another run that is still going).
 */
export async function staleLeftovers(
  servers: ServersOptions & { minAgeMs: number; currentRunId: string; now?: number },
): Promise<LeftoverReport> {
  const cutoff = (servers.now ?? Date.now()) - servers.minAgeMs;
  const [streams, databases] = await Promise.all([
    listTestStreams(servers.natsUrl),
    listTestDatabases(servers.postgresUrl),
  ]);
  return report(
    streams.filter((stream) => stream.createdAt < cutoff && !streamOfRun(stream, servers.currentRunId)),
    databases.filter(
      (database) =>
        database.createdAt !== undefined &&
        database.createdAt < cutoff &&
        database.sessions === 0 &&
        !databaseOfRun(database, servers.currentRunId),
    ),
  );
}

/** Removes the log folders (tmp/test-logs/*) of stacks older than `minAgeMs`; answers how many. */
export function removeOldTestLogs(logRoot: string, minAgeMs: number, now = Date.now()): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(logRoot);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const folder = path.join(logRoot, entry);
    try {
      if (now - statSync(folder).mtimeMs < minAgeMs) continue;
      rmSync(folder, { recursive: true, force: true });
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

/** One line for a human: counts, megabytes and the first names. */
export function describeLeftovers(leftovers: LeftoverReport): string {
  const names = [...leftovers.streams.map((s) => s.name), ...leftovers.databases.map((d) => d.name)];
  return (
    `${leftovers.streams.length} stream(s)/bucket(s) (${(leftovers.bytes / 1e6).toFixed(1)} MB), ` +
    `${leftovers.databases.length} database(s)` +
    (names.length ? `: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : '')
  );
}
