/**
 * A least-recently-used map bounded by entries and by bytes alike (docs/RUNBOOK.md, "Memory"): an
 * in-process cache must not grow with the number of tenants, issues or descriptions it has seen.
 * The bytes are an estimate the owner gives per entry (`sizeOf`), e.g. two bytes per character of
 * the strings held plus a fixed overhead; an entry larger than the whole budget is not kept.
 */
export interface BoundedLruOptions<K, V> {
  /** Most entries kept. */
  maxEntries: number;
  /** Most estimated bytes kept, over all entries. */
  maxBytes: number;
  /** Estimated bytes of one entry (key and value). */
  sizeOf: (key: K, value: V) => number;
}

/** Bytes of a string in V8 at most (two-byte strings), for `sizeOf` estimates. */
export const stringBytes = (text: string): number => 2 * text.length;

/** What a Map entry and its small record cost besides their strings, roughly (V8, 64-bit). */
export const ENTRY_OVERHEAD_BYTES = 64;

export class BoundedLru<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private totalBytes = 0;

  constructor(private readonly options: BoundedLruOptions<K, V>) {
    if (!(options.maxEntries >= 1) || !(options.maxBytes >= 1)) {
      throw new RangeError('BoundedLru needs maxEntries and maxBytes of at least 1');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /**
   * Keeps `value` as the most recently used, then drops the least recently used entries until both
   * bounds hold. Returns false (and keeps nothing) when the entry alone is over `maxBytes`.
   */
  set(key: K, value: V): boolean {
    this.delete(key);
    const bytes = Math.max(0, this.options.sizeOf(key, value));
    if (bytes > this.options.maxBytes) return false;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    for (const [oldKey, old] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.totalBytes <= this.options.maxBytes) break;
      this.entries.delete(oldKey);
      this.totalBytes -= old.bytes;
    }
    return true;
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    return true;
  }

  /** Drops every entry for which `drop` is true (e.g. expired ones). */
  prune(drop: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (drop(entry.value, key)) this.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}
