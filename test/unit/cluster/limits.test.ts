import { describe, expect, it } from 'vitest';
import { backoffMs, Semaphore, TokenBucket } from '../../../src/cluster/limits.js';

describe('client-side limits', () => {
  it('TokenBucket lets a burst through at once, then paces at qps', async () => {
    const bucket = new TokenBucket(50, 5);
    const start = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, () => bucket.take().then(() => times.push(performance.now() - start))),
    );
    times.sort((a, b) => a - b);
    expect(times[4]).toBeLessThan(15); // the burst
    // 5 more tokens at 50/s take ≥ ~100 ms
    expect(times[9]).toBeGreaterThanOrEqual(85);
  });

  it('Semaphore never runs more than its size at once, even with waiters racing newcomers', async () => {
    const gate = new Semaphore(4);
    let active = 0;
    let peak = 0;
    const job = () =>
      gate.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      });
    const jobs: Array<Promise<void>> = [];
    for (let i = 0; i < 30; i++) {
      jobs.push(job());
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(jobs);
    expect(peak).toBe(4);
  });

  it('backoff is jittered, grows, and is capped', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ms = backoffMs(attempt, 250, 15_000);
      const ceiling = Math.min(15_000, 250 * 2 ** attempt);
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    }
  });
});
