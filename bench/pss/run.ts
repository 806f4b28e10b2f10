/**
 * Pod Security evaluator micro-benchmark (not a test: it asserts nothing, it measures). See bench/README.md.
 *
 *   npm run bench:pss        # = npx tsc -p . && node dist/bench/pss/run.js [--ms 1000] [--warmup 200]
 *
 * Evaluates the typical pods of test/fixtures/pss/typical-pods.yaml round-robin, one level at a time (latest
 * version, no cache), and prints pods/s per level: a number for humans comparing changes to src/policy/pss.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { evaluatePod, type LevelVersion, type PodLike } from '../../src/policy/pss/index.js';
import { repoRoot } from '../../test/cluster/control-plane.js';

const { values: args } = parseArgs({
  options: {
    ms: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '200' },
  },
});

function millis(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`bench: --${name} must be a positive whole number of milliseconds\n`);
    process.exit(2);
  }
  return n;
}

const fixture = join(repoRoot(), 'test/fixtures/pss/typical-pods.yaml');
const pods = parseAllDocuments(readFileSync(fixture, 'utf8'))
  .map((doc) => doc.toJSON() as PodLike)
  .filter((pod) => pod !== null);

/** Evaluations per second over `durationMs`, in batches of 1,000 (so the clock is read rarely). */
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

const duration = millis(args.ms as string, 'ms');
const warmup = millis(args.warmup as string, 'warmup');
process.stdout.write(
  `Pod Security evaluator, ${pods.length} typical pods (${fixture}), ${duration} ms per level\n`,
);
for (const level of ['baseline', 'restricted'] as const) {
  const policy: LevelVersion = { level, version: 'latest' };
  throughput(policy, warmup); // let the JIT settle
  const { podsPerSecond, denied } = throughput(policy, duration);
  process.stdout.write(
    `${`${level}:latest`.padEnd(18)} ${podsPerSecond.toLocaleString('en-US').padStart(10)} pods/s  (${denied.toLocaleString('en-US')} denied)\n`,
  );
}
