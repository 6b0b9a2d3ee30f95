import type { SimHook } from '../store/models';
import { alertStatus, executable, recordFailure, recordSuccess } from './auto-disabling';

const MINUTE = 60_000;

function hook(): SimHook {
  return { recentFailures: 0, backoffCount: 0, disabledUntil: null } as SimHook;
}

describe('GitLab webhook auto-disabling', () => {
  it('disables for 1 minute at the 4th consecutive failure, then doubles up to 24 hours', () => {
    const subject = hook();
    let now = 0;
    for (let n = 0; n < 3; n += 1) recordFailure(subject, now);
    expect(alertStatus(subject, now)).toBe('executable');
    const windows: number[] = [];
    for (let n = 4; n <= 39; n += 1) {
      recordFailure(subject, now);
      expect(executable(subject, now)).toBe(false);
      windows.push(subject.disabledUntil! - now);
      now = subject.disabledUntil! + 1;
      expect(executable(subject, now)).toBe(true);
    }
    expect(windows.slice(0, 4)).toEqual([MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE]);
    expect(Math.max(...windows)).toBe(24 * 60 * MINUTE);
    recordFailure(subject, now);
    expect(alertStatus(subject, now + 365 * 24 * 60 * MINUTE)).toBe('disabled');
  });

  it('re-enables and resets on success', () => {
    const subject = hook();
    for (let n = 0; n < 5; n += 1) recordFailure(subject, 0);
    expect(alertStatus(subject, 0)).toBe('temporarily_disabled');
    recordSuccess(subject);
    expect(subject).toMatchObject({ recentFailures: 0, backoffCount: 0, disabledUntil: null });
    expect(alertStatus(subject, 0)).toBe('executable');
  });
});
