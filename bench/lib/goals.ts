/**
 * Machine-readable figures of the benchmarks (issue 14, "One benchmark report"). Each benchmark, at
 * the end of its main, records its figures with `recordFigures`: the value, its goal, the baseline
 * measured in the same run, met or missed, and what limits a missed one. They go to
 * bench/results/<bench>.json (committed with RESULTS.md); `npm run bench` (bench/run-all.ts) reads
 * every such file and writes the summary at the top of bench/RESULTS.md (bench/lib/summary.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { workspaceRoot } from './results';

export const RESULTS_DIR = path.join(workspaceRoot(), 'bench', 'results');

/** `>=`: at least the target (a rate, a share); `<=`: at most (a latency, CPU, memory); `==`: exactly. */
export type Comparison = '>=' | '<=' | '==';

export interface Goal {
  comparison: Comparison;
  target: number;
  /** Where the goal comes from, e.g. `issue 13`. */
  source?: string;
}

export interface Baseline {
  value: number;
  unit: string;
  /** What the baseline is, e.g. `bare Fastify route, same run`. */
  what: string;
}

/** One figure as a benchmark hands it over; `met` is computed. */
export interface FigureInput {
  /** What was measured, e.g. `issues/s to the last commit (50,000 issues, limits off)`. */
  figure: string;
  value: number;
  unit: string;
  /** No goal: the figure is reported only (e.g. CPU per push). */
  goal?: Goal;
  baseline?: Baseline;
  /** What limits the figure, with numbers; said for every missed goal. */
  limits?: string;
}

export interface Figure extends FigureInput {
  /** Whether the goal is met; absent when there is no goal. A value that is not a number misses. */
  met?: boolean;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
}

export interface BenchResults {
  /** The name in `npm run bench:<bench>` (also the JSON file's name). */
  bench: string;
  /** The section of bench/RESULTS.md with the details (its `<!-- section:start -->` marker). */
  section: string;
  /** ISO date of the run's end. */
  date: string;
  machine: Machine;
  /** The machine's 1, 5 and 15 minute load averages at the end (it is shared: context for noise). */
  loadAverage?: number[];
  figures: Figure[];
}

export function currentMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

/** Whether `value` meets `goal`; NaN or an infinite value (nothing measured) never does. */
export function meets(value: number, goal: Goal): boolean {
  if (!Number.isFinite(value)) return false;
  switch (goal.comparison) {
    case '>=':
      return value >= goal.target;
    case '<=':
      return value <= goal.target;
    case '==':
      return value === goal.target;
  }
}

export function evaluate(input: FigureInput): Figure {
  return input.goal ? { ...input, met: meets(input.value, input.goal) } : { ...input };
}

/**
 * Writes bench/results/<bench>.json with the figures evaluated against their goals, and returns
 * them. `section` names the bench's section of bench/RESULTS.md.
 */
export function recordFigures(
  bench: string,
  section: string,
  figures: FigureInput[],
  options: { dir?: string; now?: Date } = {},
): BenchResults {
  const dir = options.dir ?? RESULTS_DIR;
  const results: BenchResults = {
    bench,
    section,
    date: (options.now ?? new Date()).toISOString(),
    machine: currentMachine(),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    figures: figures.map(evaluate),
  };
  mkdirSync(dir, { recursive: true });
  // NaN and Infinity are not JSON: they are written as null and read back as NaN.
  writeFileSync(
    path.join(dir, `${bench}.json`),
    `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`,
  );
  const missed = results.figures.filter((figure) => figure.met === false).length;
  process.stdout.write(
    `recorded ${results.figures.length} figures of ${bench} in bench/results/${bench}.json (${missed} goal(s) missed)\n`,
  );
  return results;
}

function isResults(value: unknown): value is BenchResults {
  const candidate = value as Partial<BenchResults> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.bench === 'string' &&
    typeof candidate.section === 'string' &&
    typeof candidate.date === 'string' &&
    Array.isArray(candidate.figures)
  );
}

/** Every bench/results/*.json, sorted by bench name; files that are not results are skipped. */
export function readAllResults(dir = RESULTS_DIR): BenchResults[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .flatMap((name) => {
      try {
        const parsed: unknown = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
        if (!isResults(parsed)) return [];
        const figures = parsed.figures.map((figure) => ({
          ...figure,
          value: typeof figure.value === 'number' ? figure.value : Number.NaN,
        }));
        return [{ ...parsed, figures }];
      } catch {
        return [];
      }
    });
}
