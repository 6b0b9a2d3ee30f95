import { Transform } from 'class-transformer';

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
