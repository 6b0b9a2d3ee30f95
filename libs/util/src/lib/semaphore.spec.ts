import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('never lets more than its capacity run at once', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await semaphore.acquire();
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        semaphore.release();
      }),
    );
    expect(peak).toBe(3);
    expect(semaphore.inUse).toBe(0);
  });

  it('reports whether it became idle in time', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    await expect(semaphore.idle(50)).resolves.toBe(false);
    semaphore.release();
    await expect(semaphore.idle(50)).resolves.toBe(true);
  });
});
