import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

/** The product's services: every app but the simulator. */
export const SERVICE_NAMES = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const;
export const APP_NAMES = [...SERVICE_NAMES, 'gitlab-sim'] as const;
export type AppName = (typeof APP_NAMES)[number];

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..').replace(/\/dist$/, '');
const distEntry = (app: AppName, entry: 'main' | 'migrate') =>
  path.join(WORKSPACE_ROOT, 'dist', 'apps', app, 'src', `${entry}.js`);

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A running app process, started from the build output as it runs in production. */
export interface RunningApp {
  readonly name: AppName;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every line the app wrote to stdout and stderr so far. */
  logs(): string;
  /** SIGTERM (or another signal), then resolves with the exit code; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  env: Record<string, string>;
  /** Which health endpoint must answer 200 before `startApp` resolves. */
  waitFor?: 'ready' | 'live' | 'listening';
  timeoutMs?: number;
  /** Folder for log files (one per app), for a human reading a failed run. */
  logDir?: string;
  /**
   * Node's options on the command line. Default `--enable-source-maps` (stack traces of the
   * TypeScript sources while testing); the memory benchmark passes none, as the image runs
   * (docs/RUNBOOK.md, "Memory").
   */
  nodeArgs?: readonly string[];
}

function assertBuilt(app: AppName, entry: 'main' | 'migrate'): string {
  const file = distEntry(app, entry);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`npm run build\` first (npm test does it)`);
  return file;
}

function openLog(logDir: string | undefined, app: AppName): WriteStream | undefined {
  if (!logDir) return undefined;
  mkdirSync(logDir, { recursive: true });
  return createWriteStream(path.join(logDir, `${app}.log`), { flags: 'a' });
}

/** Runs an app's migration command to completion. */
export async function migrateApp(app: AppName, env: Record<string, string>): Promise<void> {
  const file = assertBuilt(app, 'migrate');
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`migration of ${app} failed (exit ${code}):\n${output}`);
}

/** Starts an app on a free port (PORT=0) and waits until it is ready. */
export async function startApp(app: AppName, options: StartOptions): Promise<RunningApp> {
  const file = assertBuilt(app, 'main');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? ['--enable-source-maps']), file], {
    env: { ...process.env, PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const logFile = openLog(options.logDir, app);
  let resolvePort: (port: number) => void = () => undefined;
  const portKnown = new Promise<number>((resolve) => (resolvePort = resolve));
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    logFile?.write(text);
    for (const line of text.split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (line.includes('"listening"')) {
        try {
          const parsed = JSON.parse(line) as { port?: number; url?: string };
          const port = parsed.port ?? Number(new URL(parsed.url ?? '').port);
          if (port) resolvePort(port);
        } catch {
          // not a JSON line
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      logFile?.end();
      resolve(code ?? (signal ? null : code));
    }),
  );

  const timeoutMs = options.timeoutMs ?? 30_000;
  const failure = (reason: string) =>
    new Error(`${app} did not start: ${reason}\n--- ${app} output ---\n${lines.slice(-40).join('\n')}`);
  let listening = false;
  const port = await Promise.race([
    portKnown,
    exited.then((code) => {
      throw failure(`exited with code ${code}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        if (listening) return;
        // Not left running: a late start would create streams after the test removed them.
        child.kill('SIGKILL');
        reject(failure(`no 'listening' line within ${timeoutMs} ms`));
      }, timeoutMs).unref(),
    ),
  ]);
  listening = true;
  const url = `http://127.0.0.1:${port}`;

  const running: RunningApp = {
    name: app,
    url,
    port,
    pid: child.pid!,
    logs: () => lines.join('\n'),
    exited,
    async stop(signal = 'SIGTERM', stopTimeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  if (options.waitFor !== 'listening') {
    const endpoint = `${url}/health/${options.waitFor ?? 'ready'}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(endpoint)
        .then((response) => response.ok)
        .catch(() => false);
      if (ok) break;
      if (child.exitCode !== null) throw failure(`exited with code ${child.exitCode}`);
      if (Date.now() > deadline) {
        await running.kill();
        throw failure(`${endpoint} not 200 within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return running;
}
