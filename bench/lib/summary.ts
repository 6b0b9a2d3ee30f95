/**
 * The summary at the top of bench/RESULTS.md (issue 14, "One benchmark report"): the machine, the
 * date, one table of every goal with its figure, same-run baseline and met or missed, the figures
 * reported without a goal, and what limits each missed one, from every bench/results/*.json
 * (bench/lib/goals.ts). Figures older than the run that writes the summary are marked with their
 * date, so that `npm run bench -- --only gateway` keeps the rest of the report, visibly stale.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { currentMachine, type BenchResults, type Figure, type Goal, type Machine } from './goals';
import { RESULTS_FILE } from './results';

export const SUMMARY_SECTION = 'summary';

/** What happened to one benchmark in this run of `npm run bench`. */
export interface RunOutcome {
  bench: string;
  status: 'passed' | 'failed' | 'timed out' | 'not run';
  /** Exit code or signal of a failed run, or why a benchmark was not run. */
  note?: string;
  seconds?: number;
}

export interface SummaryOptions {
  /** When this run of `npm run bench` started: results older than it are stale. */
  runStartedAt?: Date;
  outcomes?: RunOutcome[];
  now?: Date;
  machine?: Machine;
}

const SYMBOL: Record<Goal['comparison'], string> = { '>=': '≥', '<=': '≤', '==': '=' };

/** Three significant digits or so (`2,312`, `17.3`, `0.46`); a target (`trim`) without trailing zeros. */
export function formatNumber(value: number, trim = false): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 || Number.isInteger(value) ? 0 : magnitude >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: trim ? 0 : digits,
  });
}

/** `0.46×`, `46 %`, `12 ms`. */
export function formatValue(value: number, unit: string, trim = false): string {
  const number = formatNumber(value, trim);
  if (!Number.isFinite(value) || unit === '') return number;
  return unit === '×' ? `${number}×` : `${number} ${unit}`;
}

export function formatGoal(goal: Goal, unit: string): string {
  return `${SYMBOL[goal.comparison]} ${formatValue(goal.target, unit, true)}`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const minute = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const machineText = (machine: Machine) =>
  `${machine.cpu} · ${machine.cores} cores · ${machine.memoryGiB} GiB · Node ${machine.node}`;
const sameMachine = (a: Machine, b: Machine) =>
  a.cpu === b.cpu && a.cores === b.cores && a.memoryGiB === b.memoryGiB;

function baselineText(figure: Figure): string {
  if (!figure.baseline) return '—';
  return cell(`${formatValue(figure.baseline.value, figure.baseline.unit)} (${figure.baseline.what})`);
}

/** The benchmark's name, with the date of its figures when they are older than this run. */
function benchCell(results: BenchResults, options: SummaryOptions, machine: Machine): string {
  const date = new Date(results.date);
  const notes: string[] = [];
  if (options.runStartedAt && date < options.runStartedAt) notes.push(`stale: from ${minute(date)}`);
  if (!sameMachine(results.machine, machine)) notes.push(`on ${machineText(results.machine)}`);
  return notes.length ? `${results.bench} _(${notes.join('; ')})_` : results.bench;
}

const detailsLink = (results: BenchResults) => `[${results.section}](#${results.section})`;

/** The summary's Markdown (without its markers). */
export function renderSummary(all: BenchResults[], options: SummaryOptions = {}): string {
  const now = options.now ?? new Date();
  const machine = options.machine ?? currentMachine();
  const outcomes = options.outcomes ?? [];
  const goals = all.flatMap((results) =>
    results.figures.filter((figure) => figure.goal).map((figure) => ({ results, figure })),
  );
  const reported = all.flatMap((results) =>
    results.figures.filter((figure) => !figure.goal).map((figure) => ({ results, figure })),
  );
  const met = goals.filter(({ figure }) => figure.met).length;
  const lines = [
    '## Summary (`npm run bench`)',
    '',
    `_${minute(now)} · ${machineText(machine)}_`,
    '',
    'Written by `npm run bench` (bench/run-all.ts) from the figures each benchmark records in ' +
      'bench/results/<bench>.json; every figure is measured against a baseline of the same run, and ' +
      'the sections below hold the details. Figures older than the run that wrote this summary are ' +
      'marked stale with their date.',
    '',
  ];
  if (outcomes.length) {
    const outcomeText = (outcome: RunOutcome) => {
      const time = outcome.seconds === undefined ? '' : `, ${(outcome.seconds / 60).toFixed(1)} min`;
      const note = outcome.note ? ` (${outcome.note}${time})` : time ? ` (${time.slice(2)})` : '';
      const status = outcome.status === 'passed' ? 'passed' : `**${outcome.status}**`;
      return `${outcome.bench} ${status}${note}`;
    };
    const started = options.runStartedAt ? `, started ${minute(options.runStartedAt)}` : '';
    lines.push(`This run${started}: ${outcomes.map(outcomeText).join('; ')}.`, '');
  }
  const loads = all.filter((results) => results.loadAverage?.length);
  if (loads.length) {
    lines.push(
      `Load average (1 / 5 / 15 min) as each benchmark ended, on ${machine.cores} cores shared with other work: ` +
        `${loads.map((results) => `${results.bench} ${results.loadAverage!.map((load) => load.toFixed(1)).join(' / ')}`).join('; ')}.`,
      '',
    );
  }
  lines.push(
    `**${met} of ${goals.length} goals met**${goals.length - met ? `, ${goals.length - met} missed` : ''}.`,
    '',
    '| Benchmark | Figure | Value | Goal | Baseline (same run) | Result | Details |',
    '|---|---|--:|---|---|---|---|',
    ...goals.map(
      ({ results, figure }) =>
        `| ${benchCell(results, options, machine)} | ${cell(figure.figure)} | ${formatValue(figure.value, figure.unit)} | ` +
        `${formatGoal(figure.goal!, figure.unit)}${figure.goal!.source ? ` (${figure.goal!.source})` : ''} | ` +
        `${baselineText(figure)} | ${figure.met ? 'met' : '**missed**'} | ${detailsLink(results)} |`,
    ),
  );
  const unrecorded = outcomes.filter((outcome) => !all.some((results) => results.bench === outcome.bench));
  for (const outcome of unrecorded) {
    const status = outcome.status === 'passed' ? 'passed, recorded none' : `**${outcome.status}**`;
    lines.push(`| ${outcome.bench} | no figures | — | — | — | ${status} | — |`);
  }
  if (reported.length) {
    lines.push(
      '',
      'Reported without a goal of their own:',
      '',
      '| Benchmark | Figure | Value | Baseline (same run) | Details |',
      '|---|---|--:|---|---|',
      ...reported.map(
        ({ results, figure }) =>
          `| ${benchCell(results, options, machine)} | ${cell(figure.figure)} | ${formatValue(figure.value, figure.unit)} | ` +
          `${baselineText(figure)} | ${detailsLink(results)} |`,
      ),
    );
  }
  const missed = goals.filter(({ figure }) => !figure.met);
  if (missed.length) {
    lines.push(
      '',
      '### What limits the missed goals',
      '',
      ...missed.map(
        ({ results, figure }) =>
          `- **${results.bench}: ${figure.figure}** (${formatValue(figure.value, figure.unit)}, goal ` +
          `${formatGoal(figure.goal!, figure.unit)}): ` +
          `${figure.limits?.trim().replace(/\.$/, '') || 'not stated by the benchmark'}. (${detailsLink(results)})`,
      ),
    );
  }
  return lines.join('\n');
}

/**
 * Writes the summary between `<!-- summary:start -->` and `<!-- summary:end -->` of RESULTS.md,
 * replacing the previous one, or before the first benchmark's section when there is none yet.
 */
export function writeSummary(markdown: string, file = RESULTS_FILE): void {
  const start = `<!-- ${SUMMARY_SECTION}:start -->`;
  const end = `<!-- ${SUMMARY_SECTION}:end -->`;
  const section = `${start}\n<a id="${SUMMARY_SECTION}"></a>\n\n${markdown.trim()}\n${end}`;
  const current = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmark results\n\nWritten by the benchmarks in bench/; each section is replaced by its next run.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  let next: string;
  if (from >= 0 && to > from) {
    next = `${current.slice(0, from)}${section}${current.slice(to + end.length)}`;
  } else {
    const firstSection = current.search(/<!-- [\w-]+:start -->/);
    next =
      firstSection >= 0
        ? `${current.slice(0, firstSection)}${section}\n\n${current.slice(firstSection)}`
        : `${current.trimEnd()}\n\n${section}\n`;
  }
  writeFileSync(file, next);
}
