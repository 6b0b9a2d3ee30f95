import { isQuotaExhausted, rateLimitResetWaitMs, retryAfterMs } from './server-rate-headers';

const NOW = Date.parse('2026-11-25T10:00:00.000Z');

describe('server rate-limit headers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '30' }, NOW)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Wed, 25 Nov 2026 10:00:12 GMT' }, NOW)).toBe(12_000);
    expect(retryAfterMs({}, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
  });

  it('measures RateLimit-Reset (Unix time) against the response Date, not the local clock', () => {
    const reset = String(NOW / 1000 + 20);
    // The local clock runs 5 s ahead of GitLab's.
    expect(
      rateLimitResetWaitMs({ 'ratelimit-reset': reset, date: new Date(NOW).toUTCString() }, NOW + 5000),
    ).toBe(20_000);
    expect(rateLimitResetWaitMs({ 'ratelimit-reset': reset }, NOW)).toBe(20_000);
  });

  it('takes a small RateLimit-Reset as delta seconds and never returns a negative wait', () => {
    expect(rateLimitResetWaitMs({ 'ratelimit-reset': '7' }, NOW)).toBe(7000);
    expect(rateLimitResetWaitMs({ 'ratelimit-reset': String(NOW / 1000 - 60) }, NOW)).toBe(0);
  });

  it('knows the quota is exhausted only at RateLimit-Remaining: 0', () => {
    expect(isQuotaExhausted({ 'ratelimit-remaining': '0' })).toBe(true);
    expect(isQuotaExhausted({ 'ratelimit-remaining': '3' })).toBe(false);
    expect(isQuotaExhausted({})).toBe(false);
  });
});
