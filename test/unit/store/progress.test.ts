import { describe, expect, test } from 'vitest';
import { describeProgress, grouped } from '../../../src/store/store.js';

describe('inventory progress', () => {
  test('objects, pods and pages summed over the lists read so far, elapsed time, and the list in flight', () => {
    const counts = new Map<string, { items: number; pages: number }>();
    describeProgress({ resource: 'namespaces', items: 12, pages: 1, done: true }, counts, 0, 100);
    describeProgress({ resource: 'pods', items: 4_000, pages: 8, done: false }, counts, 0, 1_000);
    const p = describeProgress({ resource: 'pods', items: 10_000, pages: 20, done: false }, counts, 0, 4_250);
    expect(p).toEqual({
      label: 'listed 10,012 objects (10,000 pods) in 21 page(s), 4.3 s; pods…',
      done: 10_012,
    });
  });

  test('counts are grouped by thousands exactly as toLocaleString("en-US") groups them', () => {
    const samples = [
      0, 1, 12, 999, 1_000, 1_001, 12_345, 999_999, 1_000_000, 150_000, 123_456_789, -1, -1_234,
    ];
    for (let n = 1; n < Number.MAX_SAFE_INTEGER / 7; n = n * 7 + 3) samples.push(n, -n);
    for (const n of samples) expect(grouped(n)).toBe(n.toLocaleString('en-US'));
    expect(grouped(1.5)).toBe((1.5).toLocaleString('en-US'));
  });
});
