/**
 * Micro-benchmark: prints evaluator throughput on typical pods (test/fixtures/pss/typical-pods.yaml). It asserts
 * nothing about speed, only that the evaluation ran; the number is for humans comparing changes.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { evaluatePod, type LevelVersion, type PodLike } from '../../../src/policy/pss/index.js';

const pods = parseAllDocuments(
  readFileSync(new URL('../../fixtures/pss/typical-pods.yaml', import.meta.url), 'utf8'),
)
  .map((doc) => doc.toJSON() as PodLike)
  .filter((pod) => pod !== null);

function throughput(policy: LevelVersion, durationMs: number): { podsPerSecond: number; denied: number } {
  let evaluated = 0;
  let denied = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < 1000; i++) {
      const pod = pods[i % pods.length] as PodLike;
      if (!evaluatePod(policy, pod).allowed) denied++;
    }
    evaluated += 1000;
    elapsed = performance.now() - start;
  }
  return { podsPerSecond: Math.round((evaluated / elapsed) * 1000), denied };
}

it('prints evaluator throughput on typical pods', () => {
  expect(pods).toHaveLength(4);
  for (const level of ['baseline', 'restricted'] as const) {
    const policy: LevelVersion = { level, version: 'latest' };
    throughput(policy, 200); // warm-up: let the JIT settle
    const { podsPerSecond, denied } = throughput(policy, 1000);
    console.log(
      `[pss] ${level}:latest ${podsPerSecond.toLocaleString('en-US')} pods/s (${pods.length} typical pods)`,
    );
    expect(denied).toBeGreaterThan(0);
  }
});
