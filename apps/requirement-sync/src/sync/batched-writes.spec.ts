import { writeInBatches } from './batched-writes';

async function* items(count: number, delayMs = 0): AsyncGenerator<number> {
  for (let n = 1; n <= count; n += 1) {
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    yield n;
  }
}

describe('writeInBatches', () => {
  it('writes every item once, in order, one write at a time, batching what arrives during a write', async () => {
    const batches: number[][] = [];
    let writing = 0;
    let overlapped = false;
    const done = await writeInBatches(
      items(20),
      async (batch) => {
        writing += 1;
        overlapped ||= writing > 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        batches.push(batch);
        writing -= 1;
        return true;
      },
      4,
    );
    expect(done).toBe(true);
    expect(overlapped).toBe(false);
    expect(batches.flat()).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    expect(batches.length).toBeLessThan(20);
  });

  it('stops at the first write that answers false', async () => {
    const written: number[][] = [];
    const done = await writeInBatches(
      items(10, 1),
      async (batch) => {
        written.push(batch);
        return !batch.includes(3);
      },
      1,
    );
    expect(done).toBe(false);
    expect(written.flat()).toEqual([1, 2, 3]);
  });

  it('waits for the write in flight before passing on a failure of the source', async () => {
    let finished = false;
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new Error('GitLab went away');
    }
    await expect(
      writeInBatches(
        failing(),
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          finished = true;
          return true;
        },
        5,
      ),
    ).rejects.toThrow('GitLab went away');
    expect(finished).toBe(true);
  });
});
