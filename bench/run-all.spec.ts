import { benchEntries, parseArgs, runOne } from './run-all';

describe('npm run bench', () => {
  const scripts = {
    build: 'tsc -p tsconfig.build.json',
    'bench:comments': 'npm run build && node dist/bench/comments.bench.js',
    'bench:gateway': 'npm run build && node dist/bench/gateway.bench.js',
    'bench:sim': 'npm run build && node dist/bench/gitlab-sim.bench.js',
    'bench:extra': 'npm run build && tsx bench/extra.ts',
    soak: 'npm run build && node dist/bench/soak/main.js',
  };

  it('runs every bench:* script’s compiled entry, in the report’s order, and not the soak', () => {
    expect(benchEntries(scripts)).toEqual([
      { bench: 'sim', command: process.execPath, args: ['dist/bench/gitlab-sim.bench.js'] },
      { bench: 'gateway', command: process.execPath, args: ['dist/bench/gateway.bench.js'] },
      { bench: 'comments', command: process.execPath, args: ['dist/bench/comments.bench.js'] },
      // No compiled entry to call: its own script.
      { bench: 'extra', command: 'npm', args: ['run', '--silent', 'bench:extra'] },
    ]);
  });

  it('takes a subset, a summary-only run and a timeout from its arguments', () => {
    expect(parseArgs([])).toEqual({ summaryOnly: false, timeoutMinutes: 40 });
    expect(parseArgs(['--only', 'gateway, sim'])).toMatchObject({ only: ['gateway', 'sim'] });
    expect(parseArgs(['--only=backfill', '--timeout-minutes=5', '--summary-only'])).toEqual({
      only: ['backfill'],
      summaryOnly: true,
      timeoutMinutes: 5,
    });
  });

  it('reports a benchmark that fails with its exit code, and one that runs over its time as timed out', async () => {
    const node = (code: string) => ({ bench: 'x', command: process.execPath, args: ['-e', code] });

    await expect(runOne(node('process.exit(0)'), 1)).resolves.toMatchObject({ bench: 'x', status: 'passed' });
    await expect(runOne(node('process.exit(3)'), 1)).resolves.toMatchObject({
      status: 'failed',
      note: 'exit 3',
    });
    // 0.01 min = 600 ms; the child would take 20 s.
    await expect(runOne(node('setTimeout(() => {}, 20_000)'), 0.01)).resolves.toMatchObject({
      status: 'timed out',
      note: 'after 0.01 min',
    });
  });

  it('refuses arguments it does not know or without their value', () => {
    expect(() => parseArgs(['--onyl', 'gateway'])).toThrow('unknown argument --onyl');
    expect(() => parseArgs(['--only'])).toThrow('--only needs a value');
    expect(() => parseArgs(['--timeout-minutes', '0'])).toThrow('positive');
  });
});
