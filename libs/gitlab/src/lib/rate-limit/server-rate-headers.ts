/** Reading GitLab's throttle headers (docs/GITLAB.md, "Rate limits"). Header names are lower-case here. */
type Headers = Readonly<Record<string, string>>;

/** Longest pause a header can impose; anything beyond is treated as a bogus value. */
const MAX_SERVER_WAIT_MS = 60 * 60 * 1000;

const clamp = (ms: number): number => Math.min(MAX_SERVER_WAIT_MS, Math.max(0, Math.ceil(ms)));

/** `Retry-After: <seconds>` or `Retry-After: <HTTP-date>`. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return clamp(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : clamp(date - nowMs);
}

/**
 * Time until `RateLimit-Reset`. GitLab sends a Unix time; measuring it against the response's own
 * `Date` header keeps a skewed local clock out of it (rounding only ever lengthens the wait).
 * Small values are taken as delta-seconds, as the IETF RateLimit draft defines them.
 */
export function rateLimitResetWaitMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers['ratelimit-reset']?.trim();
  if (!value || !/^\d+$/.test(value)) return undefined;
  const reset = Number(value);
  if (reset < 1_000_000_000) return clamp(reset * 1000);
  const serverNow = Date.parse(headers['date'] ?? '');
  return clamp(Number.isNaN(serverNow) ? reset * 1000 - nowMs : reset * 1000 - serverNow);
}

export function isQuotaExhausted(headers: Headers): boolean {
  return headers['ratelimit-remaining']?.trim() === '0';
}
