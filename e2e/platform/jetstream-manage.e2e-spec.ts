import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { connect, credsAuthenticator, nkeys, type NatsConnection } from 'nats';
import { Client } from 'pg';

import { STREAMS } from '@testkase/contracts';
import { ensureStreams, NatsNaming } from '@testkase/platform';
import {
  eventually,
  freePort,
  migrateApp,
  newTestResourceId,
  startApp,
  TEST_CORE_API_TOKEN,
  testServers,
  WORKSPACE_ROOT,
  type RunningApp,
} from '@testkase/testing';

/** A NATS user of the test's own server: an NKey and a credentials file for NATS_CREDS_FILE. */
function natsUser(dir: string, name: string): { publicKey: string; credsFile: string } {
  const user = nkeys.createUser();
  const credsFile = path.join(dir, `${name}.creds`);
  // The server below authenticates NKeys (no operator), so the JWT part is not checked.
  writeFileSync(
    credsFile,
    `-----BEGIN NATS USER JWT-----\nunused\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
  );
  return { publicKey: user.getPublicKey(), credsFile };
}

const waitForExit = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

/**
 * JETSTREAM_MANAGE=false (docs/ARCHITECTURE.md, "JetStream settings"): on a NATS server where the
 * app's user may not create, update or delete streams, the app waits for the streams, and the
 * setup-jetstream entry point (the chart's hook Job, run from dist/) creates them with the settings.
 */
describe('streams managed by setup-jetstream: the apps need no stream-admin rights', () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let admin: { publicKey: string; credsFile: string };
  let appUser: { publicKey: string; credsFile: string };
  let adminConnection: NatsConnection;
  const database = `tk_jsmanage_${newTestResourceId()}`;
  let databaseUrl: string;
  let app: RunningApp | undefined;

  const postgres = async (sql: string) => {
    const client = new Client({ connectionString: testServers().postgresUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tk-jsmanage-'));
    admin = natsUser(dir, 'setup-jetstream');
    appUser = natsUser(dir, 'defect-sync');
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    const deny = ['$JS.API.STREAM.CREATE.>', '$JS.API.STREAM.UPDATE.>', '$JS.API.STREAM.DELETE.>'];
    writeFileSync(
      path.join(dir, 'nats.conf'),
      `listen: 127.0.0.1:${port}\njetstream { store_dir: ${JSON.stringify(path.join(dir, 'store'))} }\n` +
        `authorization { users = [\n  { nkey: ${admin.publicKey} }\n` +
        `  { nkey: ${appUser.publicKey}, permissions: { publish: { allow: [">"], deny: ${JSON.stringify(deny)} }, subscribe: { allow: [">"] } } }\n] }\n`,
    );
    server = spawn('nats-server', ['-c', path.join(dir, 'nats.conf')], { stdio: 'ignore' });
    adminConnection = await eventually(
      () => connect({ servers: url, authenticator: credsAuthenticator(readFileSync(admin.credsFile)) }),
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    await postgres(`CREATE DATABASE "${database}"`);
    const base = new URL(testServers().postgresUrl);
    base.pathname = `/${database}`;
    databaseUrl = base.toString();
    await migrateApp('defect-sync', { DATABASE_URL: databaseUrl, CORE_API_TOKEN: TEST_CORE_API_TOKEN });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await adminConnection?.close();
    if (server) {
      server.kill('SIGTERM');
      await waitForExit(server);
    }
    rmSync(dir, { recursive: true, force: true });
    await postgres(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('the app user really may not create streams', async () => {
    const nc = await connect({
      servers: url,
      authenticator: credsAuthenticator(readFileSync(appUser.credsFile)),
    });
    try {
      await expect(
        ensureStreams(await nc.jetstreamManager(), new NatsNaming(''), [STREAMS.INTEGRATION]),
      ).rejects.toThrow(/Permissions Violation/);
    } finally {
      await nc.close();
    }
  });

  it('the app waits for the streams, the setup entry point creates them, then the consumers start', async () => {
    app = await startApp('defect-sync', {
      env: {
        DATABASE_URL: databaseUrl,
        NATS_URL: url,
        NATS_CREDS_FILE: appUser.credsFile,
        JETSTREAM_MANAGE: 'false',
        CORE_API_TOKEN: TEST_CORE_API_TOKEN,
        HOST: '127.0.0.1',
      },
      logDir: path.join(WORKSPACE_ROOT, 'tmp/test-logs/jetstream-manage'),
    });
    await eventually(() => expect(app!.logs()).toContain('JetStream streams missing'), { timeoutMs: 15_000 });
    const jsm = await adminConnection.jetstreamManager();
    const names = async () => {
      const all: string[] = [];
      for await (const name of jsm.streams.names()) all.push(name);
      return all.sort();
    };
    expect(await names()).toEqual([]);

    const setup = spawn(
      process.execPath,
      [path.join(WORKSPACE_ROOT, 'dist/libs/platform/src/setup-jetstream.js')],
      {
        env: {
          ...process.env,
          NATS_URL: url,
          NATS_CREDS_FILE: admin.credsFile,
          JETSTREAM_REPLICAS: '1',
          JETSTREAM_MAX_BYTES: String(64 * 1024 * 1024),
          JETSTREAM_MAX_AGE: '48h',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    setup.stdout!.on('data', (chunk) => (output += chunk));
    setup.stderr!.on('data', (chunk) => (output += chunk));
    expect([await waitForExit(setup), output]).toEqual([0, expect.stringContaining('set up')]);

    expect(await names()).toEqual(
      [...Object.values(STREAMS).map((stream) => stream.name), 'KV_WEBHOOK_VERIFIERS'].sort(),
    );
    const integration = (await jsm.streams.info('INTEGRATION')).config;
    expect(integration).toMatchObject({ max_bytes: 64 * 1024 * 1024, max_age: 48 * 3600 * 1e9 });

    // The app binds once the streams exist and creates its own durable consumer (consumer rights only).
    await eventually(
      async () =>
        expect((await jsm.consumers.info('GITLAB_EVENTS', 'defect-sync-issues')).name).toBe(
          'defect-sync-issues',
        ),
      {
        timeoutMs: 45_000,
        intervalMs: 250,
      },
    );
    expect(app.logs()).not.toContain('Permissions Violation');
  }, 90_000);
});
