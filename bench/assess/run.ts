/**
 * assess() benchmark, without a cluster (not a test: it asserts nothing, it measures). See bench/README.md.
 *
 *   npx tsc -p . && node dist/bench/assess/run.js [--namespaces 200] [--pods 10000] [--runs 7]
 *       [--out FILE] [--no-write] [--cpu-prof FILE]
 *
 * Builds the inventory benchmark's cluster in memory (cluster.ts: the fresh control plane's objects and
 * bench/inventory/seed.ts's pods as the API server stores them), then, --runs times after one warm-up run: a fresh
 * snapshot through the real `buildSnapshot` (so the identity-keyed caches start cold), a full GC, and `assess()`
 * timed alone. Prints the median as pods/s, the shape of the result, and the SHA-256 of the JSON report (a fixed
 * clock, so two builds can be compared byte for byte), and writes bench/results/assess-<date>.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildSnapshot } from '../../src/inventory/build.js';
import { assess } from '../../src/policy/assess.js';
import { renderReport } from '../../src/report/index.js';
import { repoRoot } from '../../test/cluster/control-plane.js';
import { loadAverage, machineInfo, median, round, toJson } from '../inventory/measure.js';
import { benchClusterObjects, MemoryCluster } from './cluster.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const GOAL_PODS_PER_SECOND = 50_000;
/** The clock of every run: the report's `generatedAt` (and exception expiry) does not change between builds. */
const NOW = new Date('2026-12-05T00:00:00Z');

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '200' },
    pods: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '7' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});

const int = (s: string | undefined, name: string) => {
  const n = Number.parseInt(s ?? '', 10);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const nsCount = int(args.namespaces, 'namespaces');
const podCount = int(args.pods, 'pods');
const runs = int(args.runs, 'runs');
if (podCount % nsCount !== 0) throw new Error('--pods must be a multiple of --namespaces');

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');

async function main(): Promise<void> {
  const started = new Date();
  const loadAtStart = loadAverage();
  const cluster = new MemoryCluster(benchClusterObjects({ namespaces: nsCount, pods: podCount }));
  const profiler = args['cpu-prof'] ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
  }

  const assessMs: number[] = [];
  let shape = { pods: 0, workloads: 0, distinctSpecs: 0, findings: 0, reportBytes: 0, reportSha256: '' };
  for (let i = 0; i <= runs; i++) {
    const snapshot = await buildSnapshot(cluster);
    gc();
    if (profiler && i > 0) await profiler.post('Profiler.start');
    const t = performance.now();
    const assessment = assess(snapshot, { now: NOW });
    const ms = performance.now() - t;
    if (profiler && i > 0) {
      const { profile } = await profiler.post('Profiler.stop');
      if (i === runs) writeFileSync(args['cpu-prof'] as string, JSON.stringify(profile));
    }
    if (i > 0) assessMs.push(ms);
    if (i === 0 || i === runs) {
      const json = renderReport(assessment, 'json');
      const specs = new Set<object>();
      for (const w of snapshot.workloads) {
        if (w.template) specs.add(w.template.spec);
        for (const p of w.pods) specs.add(p.pod.spec);
      }
      const current = {
        pods: snapshot.workloads.reduce((n, w) => n + w.pods.length, 0),
        workloads: snapshot.workloads.length,
        distinctSpecs: specs.size,
        findings: assessment.findings.length,
        reportBytes: Buffer.byteLength(json),
        reportSha256: createHash('sha256').update(json).digest('hex'),
      };
      if (i === runs && current.reportSha256 !== shape.reportSha256)
        throw new Error('the report changed between runs of the same build (not deterministic)');
      shape = current;
    }
    log(`run ${i === 0 ? 'warm-up' : `${i}/${runs}`}: assess() ${ms.toFixed(1)} ms`);
  }
  profiler?.disconnect();

  const assessMedian = median(assessMs);
  const podsPerSecond = Math.round((shape.pods / assessMedian) * 1000);
  const result = {
    benchmark: 'assess',
    date: started.toISOString(),
    machine: machineInfo(loadAtStart),
    cluster: { kind: 'in memory (bench/assess/cluster.ts)', namespaces: nsCount, pods: podCount },
    runs,
    goal: { podsPerSecond: GOAL_PODS_PER_SECOND },
    results: {
      assessMs: { median: round(assessMedian, 1), samples: assessMs.map((x) => round(x, 1)) },
      assessPodsPerSecond: podsPerSecond,
      ...shape,
    },
  };
  process.stdout.write(
    `\nassess benchmark: ${fmt(shape.pods)} pods (${fmt(shape.distinctSpecs)} distinct specs) in ${nsCount} namespaces, ${fmt(shape.workloads)} workloads, ${fmt(shape.findings)} findings; ${runs} runs, load ${loadAtStart.join(' ')}\n` +
      `assess() median ${round(assessMedian, 1)} ms = ${fmt(podsPerSecond)} pods/s (goal >= ${fmt(GOAL_PODS_PER_SECOND)}: ${podsPerSecond >= GOAL_PODS_PER_SECOND ? 'met' : 'MISSED'})\n` +
      `samples ${assessMs.map((x) => x.toFixed(1)).join(' ')} ms\n` +
      `JSON report ${fmt(shape.reportBytes)} bytes, sha256 ${shape.reportSha256}\n`,
  );
  if (!args['no-write']) {
    const file =
      args.out ?? join(repoRoot(), 'bench/results', `assess-${started.toISOString().slice(0, 10)}.json`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${toJson(result)}\n`);
    process.stdout.write(`written to ${file}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
