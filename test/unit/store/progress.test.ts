import { describe, expect, test } from 'vitest';
import { describeProgress } from '../../../src/store/store.js';

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
});
