/**
 * The CLI stops V8's young generation from growing past 8 MB while the heap is under 128 MB (src/cli/entry.ts
 * capYoungGeneration), which took a 10,000-pod report from ~165 to ~130 MB of peak RSS on Node 20. It sets a V8 flag at run time, which a later V8
 * may stop honouring: this checks, on the Node that runs the tests (CI runs them on 20 and 24), that the young
 * generation really stays small under an allocation that keeps most of what it allocates, and that nothing is
 * printed (V8 writes an unknown flag's error to stdout).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { capYoungGeneration } from '../../../src/cli/entry.js';
import { repoRoot } from '../../support/cli.js';

const entry = join(repoRoot, 'dist', 'src', 'cli', 'entry.js');

/** The largest young generation seen while `rounds` × 20,000 small objects are allocated and kept. */
async function largestYoungGeneration(
  keepSmall: boolean,
  rounds = 30,
): Promise<{ max: number; stdout: string }> {
  if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const script = `
    const v8 = await import('node:v8');
    const { capYoungGeneration } = await import(${JSON.stringify(entry)});
    if (${keepSmall}) capYoungGeneration({}, []);
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const kept = [];
    let max = 0;
    for (let round = 0; round < ${rounds}; round++) {
      for (let i = 0; i < 20000; i++) kept.push({ i, s: 'x' + i, a: [i, i + 1] });
      await new Promise((r) => setImmediate(r));
      max = Math.max(max, size());
    }
    process.stdout.write(JSON.stringify({ max, kept: kept.length }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { max: (JSON.parse(stdout) as { max: number }).max, stdout };
}

describe(`V8's young generation, on Node ${process.versions.node}`, () => {
  it('stays a fraction of its default size, and nothing is printed', async () => {
    const grown = await largestYoungGeneration(false);
    const kept = await largestYoungGeneration(true);
    expect(kept.stdout).toMatch(/^\{"max":\d+,"kept":600000\}$/);
    // Measured: Node 20 8 MB instead of 32; Node 24 ~26 MB instead of 64 (its V8 also grows the young generation
    // by rules other than the growth factor).
    expect(kept.max * 2).toBeLessThanOrEqual(grown.max);
    expect(kept.max).toBeLessThanOrEqual(32 * 1024 * 1024);
  });

  it('may grow again once the heap is large (past 128 MB)', async () => {
    // 2.4 million objects: ~250 MB of heap.
    const large = await largestYoungGeneration(true, 120);
    expect(large.max).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('is left alone when the user sizes it (NODE_OPTIONS or the command line)', () => {
    expect(capYoungGeneration({ NODE_OPTIONS: '--max-semi-space-size=64' }, [])).toBe(false);
    expect(capYoungGeneration({}, ['--min-semi-space-size=16'])).toBe(false);
    expect(capYoungGeneration({ NODE_OPTIONS: '--max_semi_space_size=8' }, [])).toBe(false);
  });
});
