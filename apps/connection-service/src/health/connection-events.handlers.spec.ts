import { isNewerBackfill } from './connection-events.handlers';

const first = '2026-03-01T10:00:00.000Z';
const second = '2026-03-02T10:00:00.000Z';
const running = (imported: number, startedAt = first) =>
  ({ state: 'running', imported, expected: 100, startedAt, finishedAt: null }) as const;

describe('isNewerBackfill (reports may arrive late or twice)', () => {
  it('takes the first report, more progress, and the end of a run', () => {
    expect(isNewerBackfill(null, running(0))).toBe(true);
    expect(isNewerBackfill(running(10), running(20))).toBe(true);
    expect(isNewerBackfill(running(90), { ...running(100), state: 'completed', finishedAt: second })).toBe(
      true,
    );
  });

  it('ignores a repeated or older report, and progress that arrives after the completion', () => {
    expect(isNewerBackfill(running(20), running(20))).toBe(false);
    expect(isNewerBackfill(running(20), running(10))).toBe(false);
    expect(isNewerBackfill({ ...running(100), state: 'completed', finishedAt: second }, running(99))).toBe(
      false,
    );
  });

  it('lets a new run replace a finished one, but not the other way round', () => {
    const done = { ...running(100), state: 'completed' as const, finishedAt: second };
    expect(isNewerBackfill(done, running(0, second))).toBe(true);
    expect(isNewerBackfill(running(0, second), done)).toBe(false);
  });
});
