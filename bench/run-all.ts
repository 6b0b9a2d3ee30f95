/**
 * `npm run bench` (issue 14, "One benchmark report"): after one build (the npm script's first
 * step), runs every benchmark's compiled entry (the `node dist/bench/….js` of each `bench:<name>` script in package.json) in
 * sequence, each as its own child process; goes on after one fails and reports it as failed; then
 * writes the summary at the top of bench/RESULTS.md from every bench/results/*.json
 * (bench/lib/summary.ts), those of earlier runs marked stale with their date.
 *
 *   npm run bench                          every benchmark
 *   npm run bench -- --only gateway,sim    a subset (the summary still covers every JSON present)
 *   npm run bench -- --summary-only        no benchmark: rewrite the summary from the JSON files
 *   npm run bench -- --timeout-minutes 45  per benchmark (default 40), then it is stopped
 *
 * The soak (`npm run soak`) is a command of its own and is not run here; its JSON file, when
 * present, is in the summary like any other.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { readAllResults } from './lib/goals';
import { workspaceRoot } from './lib/results';
import { renderSummary, writeSummary, type RunOutcome } from './lib/summary';

const ROOT = workspaceRoot();

/** The benchmarks of issue 13 and before, in the order they run; any other `bench:*` script follows. */
export const EXPECTED = ['sim', 'gateway', 'backfill', 'sync-lag', 'defects', 'comments', 'memory'];

const benchOrder = (name: string) => (EXPECTED.includes(name) ? EXPECTED.indexOf(name) : EXPECTED.length);

export interface BenchEntry {
  bench: string;
  /** The command to run: node with the compiled entry, or npm with the script when it has none. */
  command: string;
  args: string[];
}

/** The benchmarks of package.json's `bench:<name>` scripts, in the EXPECTED order. */
export function benchEntries(scripts: Record<string, string>): BenchEntry[] {
  const names = Object.keys(scripts)
    .filter((script) => script.startsWith('bench:'))
    .map((script) => script.slice('bench:'.length));
  return names
    .sort((a, b) => benchOrder(a) - benchOrder(b))
    .map((bench) => {
      // `npm run build && node dist/bench/x.bench.js [args]`: the last step, once the build is done.
      const last = scripts[`bench:${bench}`]!.split('&&').at(-1)!.trim();
      const words = last.split(/\s+/);
      return words[0] === 'node' && words[1]?.startsWith('dist/')
        ? { bench, command: process.execPath, args: words.slice(1) }
        : { bench, command: 'npm', args: ['run', '--silent', `bench:${bench}`] };
    });
}

export interface Options {
  only?: string[];
  summaryOnly: boolean;
  timeoutMinutes: number;
}

export function parseArgs(argv: string[]): Options {
  const options: Options = { summaryOnly: false, timeoutMinutes: 40 };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const value = () => {
      const next = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++index];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--only' || arg.startsWith('--only=')) {
      options.only = value()
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
    } else if (arg === '--summary-only') options.summaryOnly = true;
    else if (arg === '--timeout-minutes' || arg.startsWith('--timeout-minutes=')) {
      options.timeoutMinutes = Number(value());
      if (!(options.timeoutMinutes > 0)) throw new Error(`--timeout-minutes must be a positive number`);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

/** Runs one benchmark to its end (or its timeout: then its process group is stopped). */
export function runOne(entry: BenchEntry, timeoutMinutes: number): Promise<RunOutcome> {
  const started = Date.now();
  process.stdout.write(`\n=== bench:${entry.bench}: ${[entry.command, ...entry.args].join(' ')}\n`);
  return new Promise((resolve) => {
    // Its own process group, so that a timeout stops the apps it started as well.
    const child = spawn(entry.command, entry.args, {
      cwd: ROOT,
      stdio: 'inherit',
      detached: true,
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    let timedOut = false;
    const stopGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`bench:${entry.bench} ran over ${timeoutMinutes} min: stopping it\n`);
      stopGroup('SIGTERM');
      setTimeout(() => stopGroup('SIGKILL'), 15_000).unref();
    }, timeoutMinutes * 60_000);
    const interrupt = () => stopGroup('SIGTERM');
    process.once('SIGINT', interrupt);
    child.on('error', (error) => {
      clearTimeout(timer);
      process.off('SIGINT', interrupt);
      resolve({ bench: entry.bench, status: 'failed', note: error.message, seconds: 0 });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', interrupt);
      const seconds = (Date.now() - started) / 1000;
      const status = timedOut ? 'timed out' : code === 0 ? 'passed' : 'failed';
      const note =
        status === 'timed out'
          ? `after ${timeoutMinutes} min`
          : status === 'failed'
            ? signal
              ? `signal ${signal}`
              : `exit ${code}`
            : undefined;
      process.stdout.write(`=== bench:${entry.bench} ${status} in ${(seconds / 60).toFixed(1)} min\n`);
      resolve({ bench: entry.bench, status, seconds, ...(note ? { note } : {}) });
    });
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const runStartedAt = new Date();
  const scripts = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const entries = benchEntries(scripts);
  const known = new Set(entries.map((entry) => entry.bench));
  const unknown = (options.only ?? []).filter((name) => !known.has(name));
  if (unknown.length) {
    throw new Error(`no bench:${unknown.join(', bench:')} script; known: ${[...known].join(', ')}`);
  }
  const selected = options.summaryOnly
    ? []
    : entries.filter((entry) => !options.only || options.only.includes(entry.bench));
  const outcomes: RunOutcome[] = [];
  if (!options.summaryOnly && !options.only) {
    for (const name of EXPECTED.filter((name) => !known.has(name))) {
      outcomes.push({ bench: name, status: 'not run', note: `no \`bench:${name}\` script` });
    }
  }
  let interrupted = false;
  process.on('SIGINT', () => (interrupted = true));
  for (const entry of selected) {
    if (interrupted) outcomes.push({ bench: entry.bench, status: 'not run', note: 'interrupted' });
    else outcomes.push(await runOne(entry, options.timeoutMinutes));
  }

  const summary = renderSummary(readAllResults(), {
    ...(options.summaryOnly ? {} : { runStartedAt }),
    outcomes: outcomes.sort((a, b) => benchOrder(a.bench) - benchOrder(b.bench)),
  });
  writeSummary(summary);
  process.stdout.write(`\n${summary}\n\nwritten to bench/RESULTS.md (section summary)\n`);
  if (outcomes.some((outcome) => outcome.status === 'failed' || outcome.status === 'timed out')) {
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
