const UNITS = ['Bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * ActiveSupport's `number_to_human_size` with its defaults (base 1024, three significant digits,
 * insignificant zeros stripped): `1048577` → `1 MB`, `1572864` → `1.5 MB`, `1` → `1 Byte`.
 * GitLab's BytesizeValidator writes its messages with it.
 */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'Byte' : 'Bytes'}`;
  const exponent = Math.min(UNITS.length - 1, Math.floor(Math.log(bytes) / Math.log(1024)));
  const value = Number((bytes / 1024 ** exponent).toPrecision(3));
  return `${value} ${UNITS[exponent]}`;
}
