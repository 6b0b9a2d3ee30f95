/**
 * Iterates `source` one item ahead: while the caller works on item N, item N+1 is already being
 * fetched (for GitLab pages, the next request is in flight while a page is written).
 */
export async function* prefetch<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      // If the caller stops early, the item fetched ahead is dropped without an unhandled rejection.
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
