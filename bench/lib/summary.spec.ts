import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { meets, readAllResults, recordFigures, type BenchResults, type Machine } from './goals';
import { writeResultsSection } from './results';
import { formatValue, renderSummary, writeSummary } from './summary';

const MACHINE: Machine = { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, node: 'v20.20.2' };

function results(bench: string, date: string, figures: BenchResults['figures']): BenchResults {
  return { bench, section: `${bench}-section`, date, machine: MACHINE, figures };
}

describe('goal evaluation', () => {
  it('meets a goal at or beyond its target, in the goal’s direction', () => {
    expect(meets(5_000, { comparison: '>=', target: 5_000 })).toBe(true);
    expect(meets(4_999, { comparison: '>=', target: 5_000 })).toBe(false);
    expect(meets(0.35, { comparison: '<=', target: 0.35 })).toBe(true);
    expect(meets(0.36, { comparison: '<=', target: 0.35 })).toBe(false);
    expect(meets(0, { comparison: '==', target: 0 })).toBe(true);
    expect(meets(1, { comparison: '==', target: 0 })).toBe(false);
  });

  it('misses a goal when nothing was measured (NaN), whichever the direction', () => {
    expect(meets(Number.NaN, { comparison: '<=', target: 150 })).toBe(false);
    expect(meets(Number.NaN, { comparison: '>=', target: 0 })).toBe(false);
    expect(meets(Number.POSITIVE_INFINITY, { comparison: '>=', target: 1 })).toBe(false);
  });
});

describe('recorded figures', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'bench-goals-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON file per benchmark with met computed, and reads every one back', () => {
    recordFigures(
      'backfill',
      'requirement-sync-backfill',
      [
        {
          figure: 'issues/s',
          value: 2_312,
          unit: 'issues/s',
          goal: { comparison: '>=', target: 5_000 },
          limits: 'two cores',
        },
        { figure: 'CPU per issue, requirement-sync', value: 0.41, unit: 'ms' },
      ],
      { dir, now: new Date('2026-12-04T19:00:00Z') },
    );
    recordFigures('gateway', 'webhook-gateway', [{ figure: 'p99', value: Number.NaN, unit: 'ms' }], { dir });
    writeFileSync(path.join(dir, 'notes.json'), '{"not":"results"}');
    writeFileSync(path.join(dir, 'broken.json'), '{');

    const all = readAllResults(dir);

    expect(all.map((r) => r.bench)).toEqual(['backfill', 'gateway']);
    expect(all[0]).toMatchObject({
      section: 'requirement-sync-backfill',
      date: '2026-12-04T19:00:00.000Z',
      figures: [
        { figure: 'issues/s', met: false, limits: 'two cores' },
        { figure: 'CPU per issue, requirement-sync' },
      ],
    });
    expect(all[0]!.figures[1]).not.toHaveProperty('met');
    expect(all[1]!.figures[0]!.value).toBeNaN();
    expect(JSON.parse(readFileSync(path.join(dir, 'gateway.json'), 'utf8')).figures[0].value).toBeNull();
  });

  it('reads nothing from a folder that does not exist', () => {
    expect(readAllResults(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('the summary', () => {
  const runStartedAt = new Date('2026-12-04T19:45:00Z');
  const now = new Date('2026-12-04T20:15:00Z');
  const gateway = { ...results('gateway', '2026-12-04T19:52:00Z', []), loadAverage: [3.14, 2.5, 2] };
  gateway.figures.push(
    {
      figure: 'share of the bare route, 10 connections',
      value: 0.46,
      unit: '×',
      goal: { comparison: '>=', target: 0.6, source: 'issue 13' },
      baseline: { value: 8_094, unit: 'requests/s', what: 'bare Fastify route' },
      met: false,
      limits: 'gateway 230 µs CPU per request against the bare route’s 138 µs',
    },
    {
      figure: 'p99 | staggered',
      value: 9.57,
      unit: 'ms',
      goal: { comparison: '<=', target: 15 },
      met: true,
    },
    { figure: 'CPU per request', value: 230, unit: 'µs' },
  );
  const sim = results('sim', '2026-11-25T08:18:00Z', [
    { figure: 'deliveries/s', value: 6_111, unit: 'deliveries/s' },
  ]);
  const lag = results('sync-lag', '2026-12-04T20:00:00Z', [
    { figure: 'p50', value: 41, unit: 'ms', goal: { comparison: '<=', target: 20 }, met: false },
  ]);

  const summary = renderSummary([gateway, sim, lag], {
    runStartedAt,
    now,
    machine: MACHINE,
    outcomes: [
      { bench: 'gateway', status: 'passed', seconds: 420 },
      { bench: 'defects', status: 'passed', seconds: 300 },
      { bench: 'backfill', status: 'failed', note: 'exit 1', seconds: 30 },
      { bench: 'memory', status: 'not run', note: 'no `bench:memory` script' },
    ],
  });
  const rows = summary.split('\n');

  it('heads the report with the machine, the date and the load the shared machine was under', () => {
    expect(summary).toContain('_2026-12-04 20:15 UTC · AMD EPYC · 2 cores · 23.5 GiB · Node v20.20.2_');
    expect(summary).toContain(
      'Load average (1 / 5 / 15 min) as each benchmark ended, on 2 cores shared with other work: gateway 3.1 / 2.5 / 2.0.',
    );
  });

  it('puts every goal in one table: figure, goal, same-run baseline, met or missed, details link', () => {
    expect(summary).toContain('**1 of 3 goals met**, 2 missed.');
    expect(rows).toContain(
      '| gateway | share of the bare route, 10 connections | 0.46× | ≥ 0.6× (issue 13) | 8,094 requests/s (bare Fastify route) | **missed** | [gateway-section](#gateway-section) |',
    );
    expect(rows).toContain(
      '| gateway | p99 \\| staggered | 9.57 ms | ≤ 15 ms | — | met | [gateway-section](#gateway-section) |',
    );
  });

  it('lists figures without a goal apart, and marks figures older than the run stale with their date', () => {
    expect(rows).toContain(
      '| gateway | CPU per request | 230 µs | — | [gateway-section](#gateway-section) |',
    );
    expect(rows).toContain(
      '| sim _(stale: from 2026-11-25 08:18 UTC)_ | deliveries/s | 6,111 deliveries/s | — | [sim-section](#sim-section) |',
    );
    expect(summary).not.toContain('gateway _(stale');
  });

  it('says what limits each missed goal, and when the benchmark did not say', () => {
    expect(summary).toContain(
      '- **gateway: share of the bare route, 10 connections** (0.46×, goal ≥ 0.6×): gateway 230 µs CPU per request against the bare route’s 138 µs. ([gateway-section](#gateway-section))',
    );
    expect(summary).toContain('- **sync-lag: p50** (41 ms, goal ≤ 20 ms): not stated by the benchmark.');
  });

  it('reports the benchmarks that failed or were not run, with a row for one that left no figures', () => {
    expect(summary).toContain(
      'This run, started 2026-12-04 19:45 UTC: gateway passed (7.0 min); defects passed (5.0 min); backfill **failed** (exit 1, 0.5 min); memory **not run** (no `bench:memory` script).',
    );
    expect(rows).toContain('| backfill | no figures | — | — | — | **failed** | — |');
    expect(rows).toContain('| defects | no figures | — | — | — | passed, recorded none | — |');
  });

  it('marks figures measured on another machine', () => {
    const other = { ...sim, date: now.toISOString(), machine: { ...MACHINE, cores: 8 } };
    expect(renderSummary([other], { now, machine: MACHINE })).toContain(
      '| sim _(on AMD EPYC · 8 cores · 23.5 GiB · Node v20.20.2)_ |',
    );
  });
});

describe('writing the summary into RESULTS.md', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-summary-'));
    file = path.join(dir, 'RESULTS.md');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('puts it above the first benchmark section, then replaces it in place, leaving the sections alone', () => {
    writeFileSync(file, '# Benchmark results\n\nIntro.\n');
    writeResultsSection('gitlab-sim', 'sim figures', file);
    writeResultsSection('webhook-gateway', 'gateway figures', file);

    writeSummary('first summary', file);
    writeSummary('second summary', file);
    const text = readFileSync(file, 'utf8');

    expect(
      text.startsWith('# Benchmark results\n\nIntro.\n\n<!-- summary:start -->\n<a id="summary"></a>'),
    ).toBe(true);
    expect(text).toContain('second summary\n<!-- summary:end -->\n\n<!-- gitlab-sim:start -->');
    expect(text).not.toContain('first summary');
    expect(text.match(/summary:start/g)).toHaveLength(1);
    expect(text).toContain('<a id="webhook-gateway"></a>');
    expect(text).toContain('gateway figures\n<!-- webhook-gateway:end -->');
  });

  it('creates the file when there is none', () => {
    writeSummary('only summary', file);
    expect(readFileSync(file, 'utf8')).toContain('<!-- summary:start -->');
  });
});

describe('values', () => {
  it('are written with their unit and sensible digits', () => {
    expect(formatValue(0.4567, '×')).toBe('0.46×');
    expect(formatValue(2_312.4, 'issues/s')).toBe('2,312 issues/s');
    expect(formatValue(17.25, 'ms')).toBe('17.3 ms');
    expect(formatValue(0, '')).toBe('0');
    expect(formatValue(Number.NaN, 'ms')).toBe('n/a');
  });
});
