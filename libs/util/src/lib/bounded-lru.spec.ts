import { BoundedLru, stringBytes } from './bounded-lru';

const strings = (maxEntries: number, maxBytes: number) =>
  new BoundedLru<string, string>({ maxEntries, maxBytes, sizeOf: (key, value) => stringBytes(key + value) });

describe('BoundedLru', () => {
  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const cache = strings(3, 1_000_000);
    for (const key of ['a', 'b', 'c']) cache.set(key, key.toUpperCase());
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('d', 'D');
    expect(cache.has('b')).toBe(false);
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual(['A', 'C', 'D']);
    expect(cache.size).toBe(3);
  });

  it('keeps at most maxBytes, however few the entries', () => {
    const cache = strings(1_000, 100);
    cache.set('k1', 'x'.repeat(20)); // 44 bytes
    cache.set('k2', 'y'.repeat(20)); // 88 in all
    cache.set('k3', 'z'.repeat(20)); // 132: k1 goes
    expect(cache.has('k1')).toBe(false);
    expect(cache.has('k2') && cache.has('k3')).toBe(true);
    expect(cache.bytes).toBe(88);
    expect(cache.bytes).toBeLessThanOrEqual(100);
  });

  it('does not keep an entry larger than the whole budget, and keeps the others', () => {
    const cache = strings(10, 100);
    cache.set('small', 'v');
    expect(cache.set('huge', 'x'.repeat(100))).toBe(false);
    expect(cache.has('huge')).toBe(false);
    expect(cache.get('small')).toBe('v');
  });

  it('counts a replaced or deleted entry once', () => {
    const cache = strings(10, 1_000);
    cache.set('k', 'x'.repeat(10));
    cache.set('k', 'x'.repeat(20));
    expect(cache.bytes).toBe(stringBytes('k' + 'x'.repeat(20)));
    cache.delete('k');
    expect(cache.bytes).toBe(0);
    cache.set('a', '1');
    cache.set('b', '2');
    cache.prune((value) => value === '1');
    expect([cache.has('a'), cache.has('b'), cache.size]).toEqual([false, true, 1]);
  });

  it('refuses bounds below one', () => {
    expect(() => strings(0, 10)).toThrow(RangeError);
    expect(() => strings(10, 0)).toThrow(RangeError);
  });
});
