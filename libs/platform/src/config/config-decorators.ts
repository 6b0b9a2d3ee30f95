import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import ipaddr from 'ipaddr.js';

/** `"true"|"1"|"yes"` → true, `"false"|"0"|"no"` → false; anything else is left for validation to reject. */
export const ToBoolean = (): PropertyDecorator =>
  Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    const text = String(value).toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(text)) return true;
    if (['false', '0', 'no', 'off'].includes(text)) return false;
    return value;
  });

/** Decimal integer strings become numbers; anything else stays a string so that validation names it. */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value));

/** `"a, b,c"` → `["a","b","c"]`. */
export const ToList = (): PropertyDecorator =>
  Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value,
  );

/**
 * Durations as `250ms`, `30s`, `5m`, `1h` or a number of milliseconds → milliseconds.
 */
export const ToDurationMs = (): PropertyDecorator =>
  Transform(({ value }) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+)(ms|s|m|h)?$/.exec(String(value));
    if (!match) return value;
    const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
    return Number(match[1]) * factor;
  });

/** TRUST_PROXY: `true`/`false`, a hop count, or a comma-separated list of addresses and CIDRs. */
export const ToTrustProxy = (): PropertyDecorator =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (/^\d+$/.test(text)) return Number(text);
    return text.split(',').map((item) => item.trim());
  });

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IPv4 (four decimal parts) or IPv6 address, optionally with a prefix length; or a proxy-addr name. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  if (rest.length > 0) return false;
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  if (!v4 && !(address.includes(':') && ipaddr.IPv6.isValid(address))) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128);
}

export const IsTrustProxy = (): PropertyDecorator =>
  ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 16) ||
        (Array.isArray(value) &&
          value.length > 0 &&
          value.length <= 64 &&
          value.every((entry) => typeof entry === 'string' && isProxyEntry(entry))),
      defaultMessage: () =>
        'must be true, false, a hop count from 1 to 16, or a comma-separated list of IP addresses and CIDRs',
    },
  });
