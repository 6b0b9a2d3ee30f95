import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { connect as connectNats } from 'nats';
import { Client } from 'pg';

/** A free TCP port on 127.0.0.1 (asked of the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exitOf = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/**
 * A NATS server with JetStream of the test's own (the machine's server is shared by every test
 * file), so that a test can stop and restart it. Its store survives a restart.
 */
export class PrivateNats {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort(), mkdtempSync(path.join(tmpdir(), 'tk-nats-')));
    await nats.resume();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    this.child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(this.port, 10_000);
  }

  async pause(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGTERM');
    await exitOf(this.child);
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.pause();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().pop() : undefined;
  if (!version) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return path.join(root, version, 'bin');
}

/**
 * A PostgreSQL cluster of the test's own on a free port (trust auth, user postgres), so that a test
 * can stop it without disturbing the others. Runs as the OS user `postgres` when started by root.
 */
export class PrivatePostgres {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const base = mkdtempSync(path.join(tmpdir(), 'tk-pg-'));
    chmodSync(base, 0o777);
    const dataDir = path.join(base, 'data');
    const initdb = PrivatePostgres.asPostgres(path.join(postgresBin(), 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    const result = spawnSync(initdb.command, initdb.args, {
      encoding: 'utf8',
      uid: initdb.uid,
      gid: initdb.gid,
    });
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr}`);
    const postgres = new PrivatePostgres(await freePort(), dataDir);
    await postgres.resume();
    return postgres;
  }

  /** Postgres refuses to run as root: when we are root, run it as the OS user `postgres`. */
  private static asPostgres(
    command: string,
    args: string[],
  ): { command: string; args: string[]; uid?: number; gid?: number } {
    if (process.getuid?.() !== 0) return { command, args };
    const id = (flag: string) =>
      Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    return { command, args, uid: id('-u'), gid: id('-g') };
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async resume(): Promise<void> {
    const run = PrivatePostgres.asPostgres(path.join(postgresBin(), 'postgres'), [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-h',
      '127.0.0.1',
      '-k',
      this.dataDir,
      '-c',
      'fsync=off',
    ]);
    this.child = spawn(run.command, run.args, { stdio: 'ignore', uid: run.uid, gid: run.gid });
    await waitForPort(this.port, 15_000);
    // The port opens before the server accepts sessions (recovery, start-up): wait for a real one.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  /** A fast shutdown (SIGINT): open connections are cut, as when the server goes away. */
  async pause(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGINT');
    await exitOf(this.child);
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.pause();
    rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }
}

/**
 * A JetStream cluster of the test's own: `size` nats-server processes on free ports, joined by
 * cluster routes, each with its own store (which survives a restart). Apps get `urls` (a
 * comma-separated list, as NATS_URL takes it) and reconnect to another node when one goes away;
 * streams created with JETSTREAM_REPLICAS=3 keep a quorum while one node is down.
 */
export class PrivateNatsCluster {
  private readonly children: Array<ChildProcess | undefined>;

  private constructor(
    readonly name: string,
    readonly ports: readonly number[],
    private readonly clusterPorts: readonly number[],
    private readonly storeDirs: readonly string[],
  ) {
    this.children = ports.map(() => undefined);
  }

  static async start(size = 3): Promise<PrivateNatsCluster> {
    const ports: number[] = [];
    const clusterPorts: number[] = [];
    const storeDirs: string[] = [];
    for (let node = 0; node < size; node += 1) {
      ports.push(await freePort());
      clusterPorts.push(await freePort());
      storeDirs.push(mkdtempSync(path.join(tmpdir(), `tk-nats-${node}-`)));
    }
    const cluster = new PrivateNatsCluster(`tk${ports[0]}`, ports, clusterPorts, storeDirs);
    try {
      await Promise.all(ports.map((_, node) => cluster.startNode(node)));
      await cluster.waitForJetStream();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  get size(): number {
    return this.ports.length;
  }

  /** `nats://127.0.0.1:<port>` of each node. */
  get nodeUrls(): string[] {
    return this.ports.map((port) => `nats://127.0.0.1:${port}`);
  }

  /** Every node's URL, comma-separated (NATS_URL). */
  get urls(): string {
    return this.nodeUrls.join(',');
  }

  isRunning(node: number): boolean {
    return this.children[node] !== undefined;
  }

  /** Starts node `node` (again) on its port and store, and waits until it listens. */
  async startNode(node: number): Promise<void> {
    if (this.children[node]) return;
    const routes = this.clusterPorts
      .filter((_, other) => other !== node)
      .map((port) => `nats://127.0.0.1:${port}`)
      .join(',');
    const child = spawn(
      'nats-server',
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(this.ports[node]),
        '-n',
        `${this.name}-${node}`,
        '--cluster_name',
        this.name,
        '--cluster',
        `nats://127.0.0.1:${this.clusterPorts[node]}`,
        '--routes',
        routes,
        '-js',
        '-sd',
        this.storeDirs[node]!,
      ],
      { stdio: 'ignore' },
    );
    this.children[node] = child;
    child.once('exit', () => {
      if (this.children[node] === child) this.children[node] = undefined;
    });
    await waitForPort(this.ports[node]!, 10_000);
  }

  /** SIGKILL of one node, as a crash or an OOM kill would; resolves once it has exited. */
  async killNode(node: number): Promise<void> {
    const child = this.children[node];
    if (!child) return;
    this.children[node] = undefined;
    child.kill('SIGKILL');
    await exitOf(child);
  }

  /** Waits until the cluster has a JetStream meta leader (streams can be created). */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nc = await connectNats({ servers: this.nodeUrls, timeout: 2_000 }).catch(() => undefined);
      try {
        if (nc) {
          const jsm = await nc.jetstreamManager({ timeout: 2_000 });
          const info = await jsm.getAccountInfo();
          if (info) return;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
      } finally {
        await nc?.close().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`no JetStream meta leader after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.ports.map((_, node) => this.killNode(node)));
    for (const dir of this.storeDirs) rmSync(dir, { recursive: true, force: true });
  }
}
