import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root: the nearest folder above this file (source or dist) holding nx.json. */
export function workspaceRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no nx.json above ${from}`);
  }
}

export const RESULTS_FILE = path.join(workspaceRoot(), 'bench', 'RESULTS.md');

/** Date, CPU model, cores, memory and Node version: the context every figure needs. */
export function machineLine(now = new Date()): string {
  const cpus = os.cpus();
  const memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return (
    `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${cpus[0]?.model.trim() ?? 'unknown CPU'} · ` +
    `${cpus.length} cores · ${memory} · Node ${process.version}`
  );
}

/**
 * Writes (or replaces) the section `name` of bench/RESULTS.md: everything between
 * `<!-- name:start -->` and `<!-- name:end -->`, preceded by an anchor `#name` and the machine and date, so that each
 * benchmark owns its section and reruns replace it in place.
 */
export function writeResultsSection(name: string, markdown: string, file = RESULTS_FILE): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  // The anchor lets the summary (bench/lib/summary.ts) link each section, headed or not.
  const section = `${start}\n<a id="${name}"></a>\n\n_${machineLine()}_\n\n${markdown.trim()}\n${end}`;
  const current = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmark results\n\nWritten by the benchmarks in bench/; each section is replaced by its next run.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

/**
 * Writes the section to bench/RESULTS.md and prints it. The figures with a goal go to the summary
 * of `npm run bench` as well: record them with `recordFigures` (bench/lib/goals.ts).
 */
export function publishResults(name: string, markdown: string): void {
  writeResultsSection(name, markdown);
  process.stdout.write(`\n${markdown}\n\nwritten to bench/RESULTS.md (section ${name})\n`);
}

/** Runs a benchmark's main: exit 0 when it is done (servers it started may keep handles open), 1 on failure. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
