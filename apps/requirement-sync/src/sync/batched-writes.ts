/**
 * Consumes `source` and writes its items in batches, one write at a time: while a batch is being
 * written, the items that arrive meanwhile accumulate (up to `maxBatch`) and go into the next
 * write. Slow writes thus get bigger batches (fewer round trips per item), fast ones small.
 * Returns false as soon as `write` does (the job must stop), true once everything is written.
 * A write in flight is always awaited before returning or throwing.
 */
export async function writeInBatches<T>(
  source: AsyncIterable<T>,
  write: (batch: T[]) => Promise<boolean>,
  maxBatch: number,
): Promise<boolean> {
  let buffer: T[] = [];
  let inFlight: Promise<boolean> | null = null;
  let settled = true;
  const start = (batch: T[]): Promise<boolean> => {
    settled = false;
    const written = write(batch);
    written.then(
      () => (settled = true),
      () => (settled = true),
    );
    inFlight = written;
    return written;
  };
  try {
    for await (const item of source) {
      buffer.push(item);
      if (inFlight && !settled && buffer.length < maxBatch) continue;
      if (inFlight && !(await inFlight)) return false;
      void start(buffer);
      buffer = [];
    }
    if (inFlight && !(await inFlight)) return false;
    if (buffer.length === 0) return true;
    const rest = buffer;
    buffer = [];
    return await start(rest);
  } finally {
    await (inFlight as Promise<boolean> | null)?.catch(() => undefined);
  }
}
