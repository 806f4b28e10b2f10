/**
 * Inventory benchmark (not a test: it asserts nothing, it measures). See bench/README.md.
 *
 *   npx tsc -p . && node dist/bench/inventory/run.js [--namespaces 200] [--pods 10000] [--runs 5]
 *       [--kubeconfig FILE] [--out FILE] [--no-write] [--cpu-prof DIR]
 *
 * Starts a local control plane (test/cluster/control-plane.ts; or uses --kubeconfig, a disposable cluster), seeds
 * bare pods, then measures, in one run:
 * - `kube-harden report --format json` vs `kubectl get pods -A -o json` wall time (medians of --runs interleaved
 *   runs, after one warm-up each), and the ratio of the medians;
 * - the peak RSS of the kube-harden process;
 * - the raw paginated LIST of all pods (limit 500) through kube-harden's client, as the floor;
 * - the same LIST in protobuf, items counted but not decoded (a reference: how much of the floor is JSON);
 * - in-process: buildSnapshot, assess() and the JSON rendering (fresh snapshot each run, so the identity-keyed
 *   caches start cold), and raw `evaluatePod` over every pod object (no cache).
 * Prints a table and writes bench/results/inventory-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, type LiveCluster, readOnly } from '../../src/cluster/live.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import { Kinds } from '../../src/k8s/kinds.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { assess } from '../../src/policy/assess.js';
import { evaluatePod, type PodLike } from '../../src/policy/pss/index.js';
import { renderJsonChunks } from '../../src/report/json.js';
import {
  type ControlPlane,
  defaultBinDir,
  repoRoot,
  startControlPlane,
} from '../../test/cluster/control-plane.js';
import {
  hasGnuTime,
  loadAverage,
  machineInfo,
  median,
  type ProcessRun,
  round,
  runMeasured,
  toJson,
} from './measure.js';
import { protobufLister } from './protobuf-list.js';
import { seed } from './seed.js';

// A full GC before each timed in-process step (the flag must be set before it is first needed).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Issue 16's goals: report ÷ raw LIST ≤ 1.3 and RSS ≤ 150 MB at 10k pods; ≤ 1.5 and ≤ 1 GB at 150k. */
const goalsFor = (pods: number) =>
  pods <= 20_000
    ? { reportOverList: 1.3, peakRssMb: 150, podsPerSecond: 50_000 }
    : { reportOverList: 1.5, peakRssMb: 1024, podsPerSecond: 50_000 };

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '200' },
    pods: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    kubeconfig: { type: 'string' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    // kubectl needs ~1.3 GB and ~10 s per 10k pods: off by default above 20,000 pods.
    kubectl: { type: 'string' },
    'no-kubectl': { type: 'boolean' },
    'with-kubectl': { type: 'boolean' },
    // Node options for the report runs, e.g. "--max-semi-space-size=4" (what NODE_OPTIONS would give a user).
    'node-options': { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const int = (s: string | undefined, name: string) => {
  const n = Number.parseInt(s ?? '', 10);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};

const nsCount = int(args.namespaces, 'namespaces');
const podCount = int(args.pods, 'pods');
const runs = int(args.runs, 'runs');
const concurrency = int(args.concurrency, 'concurrency');
if (podCount % nsCount !== 0) throw new Error('--pods must be a multiple of --namespaces');
const GOALS = goalsFor(podCount);
const withKubectl = args['with-kubectl'] || (!args['no-kubectl'] && podCount <= 20_000);
/** The raw evaluator is timed over every pod object kept in memory: only up to this many. */
const RAW_EVAL_MAX = 20_000;

/** Every pod, paginated by 500, each one parsed; kept only with `keep` (timed runs keep nothing). */
async function listAllPods(
  cluster: LiveCluster,
  keep = false,
): Promise<{ ms: number; pods: KubeObject[]; count: number; pages: number }> {
  const started = performance.now();
  const pods: KubeObject[] = [];
  let pages = 0;
  let count = 0;
  for await (const page of cluster.list(Kinds.Pod, { limit: 500 })) {
    pages++;
    // Every item parsed (a live page parses its items as they are reached): reading the objects is the floor.
    for (const p of page.items) {
      count++;
      if (keep) pods.push(p);
    }
  }
  return { ms: performance.now() - started, pods, count, pages };
}

function timeEvaluate(pods: readonly KubeObject[], level: 'baseline' | 'restricted'): number {
  const started = performance.now();
  let denied = 0;
  for (const pod of pods) {
    if (!evaluatePod({ level, version: 'latest' }, pod as unknown as PodLike).allowed) denied++;
  }
  const ms = performance.now() - started;
  if (denied > pods.length) throw new Error('unreachable');
  return ms;
}

const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
const stats = (xs: number[], digits = 0) => ({
  median: round(median(xs), digits),
  samples: xs.map((x) => round(x, digits)),
});

async function main(): Promise<void> {
  const started = new Date();
  const loadAtStart = loadAverage();
  let cp: ControlPlane | undefined;
  let kubeconfig = args.kubeconfig;
  let kubectlBin = args.kubectl ?? join(defaultBinDir(), 'kubectl');
  if (!kubeconfig) {
    log('starting a control plane (etcd + kube-apiserver + kube-controller-manager)');
    cp = await startControlPlane({ audit: false });
    kubeconfig = cp.adminKubeconfig;
    kubectlBin = cp.kubectl;
    log(`control plane ready in ${(cp.readyMs / 1000).toFixed(1)} s (${cp.version})`);
  }
  const stop = async () => {
    await cp?.stop();
    cp = undefined;
  };
  process.on('SIGINT', () => {
    void stop().finally(() => process.exit(130));
  });

  // The bench's own client: high limits, so seeding and the reference LIST are not throttled client-side.
  const cluster = connect({ kubeconfig, qps: 5000, burst: 5000 });
  try {
    const seeded = await seed(cluster, {
      namespaces: nsCount,
      podsPerNamespace: podCount / nsCount,
      concurrency,
      log,
    });
    log(
      `seeded ${seeded.created} pods (${seeded.alreadyThere} already there) in ${seeded.namespaces.length} namespaces in ${(seeded.durationMs / 1000).toFixed(1)} s`,
    );

    const { count: totalPods, pages } = await listAllPods(cluster);
    log(`the cluster holds ${totalPods} pods (${pages} pages of 500)`);

    const kubectlArgs = [`--kubeconfig=${kubeconfig}`, 'get', 'pods', '-A', '-o', 'json'];
    const khArgs = [
      join(repoRoot(), 'bin/kube-harden.js'),
      'report',
      '--kubeconfig',
      kubeconfig,
      '--format',
      'json',
    ];
    // A cwd without ./kube-harden-exceptions.yaml, and no colour.
    const cwd = '/';
    const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
    const kubectlRun = () => runMeasured(kubectlBin, kubectlArgs, { cwd, env });
    const nodeOptions = (args['node-options'] ?? '').split(/\s+/).filter(Boolean);
    const khRun = (extra: { countStdout?: boolean } = {}) =>
      runMeasured(process.execPath, [...nodeOptions, ...khArgs], { cwd, env, ...extra });
    const check = (what: string, r: ProcessRun) => {
      if (r.exitCode !== 0) throw new Error(`${what} exited ${r.exitCode}: ${r.stderr.slice(-2000)}`);
      return r;
    };

    log('warm-up');
    if (withKubectl) check('kubectl', await kubectlRun());
    const warm = check('kube-harden', await khRun({ countStdout: true }));
    await listAllPods(cluster);

    const kubectlRuns: ProcessRun[] = [];
    const khRuns: ProcessRun[] = [];
    const listMs: number[] = [];
    const protobuf = protobufLister(kubeconfig);
    const protobufMs: number[] = [];
    await protobuf.listAllPods(500); // warm-up
    for (let i = 0; i < runs; i++) {
      // Interleaved, alternating which goes first, so drift (etcd compaction, GC, other load) hits both alike.
      // The raw LIST next to each report run, alternating which goes first.
      if (i % 2 === 0) {
        listMs.push((await listAllPods(cluster)).ms);
        khRuns.push(check('kube-harden', await khRun()));
      } else {
        khRuns.push(check('kube-harden', await khRun()));
        listMs.push((await listAllPods(cluster)).ms);
      }
      if (withKubectl) kubectlRuns.push(check('kubectl', await kubectlRun()));
      const pb = await protobuf.listAllPods(500);
      if (pb.count !== totalPods) throw new Error(`protobuf LIST counted ${pb.count} pods, not ${totalPods}`);
      protobufMs.push(pb.ms);
      if (i === runs - 1) protobuf.close();
      log(
        `run ${i + 1}/${runs}: kube-harden ${khRuns[i]?.wallMs.toFixed(0)} ms (${khRuns[i]?.peakRssMb?.toFixed(0)} MB), LIST ${listMs[i]?.toFixed(0)} ms (protobuf ${protobufMs[i]?.toFixed(0)} ms)${withKubectl ? `, kubectl ${kubectlRuns[i]?.wallMs.toFixed(0)} ms` : ''}`,
      );
    }

    if (args['cpu-prof']) {
      const dir = args['cpu-prof'];
      mkdirSync(dir, { recursive: true });
      // The measured runs' node options too, so the profile is of the same run.
      check(
        'kube-harden --cpu-prof',
        await runMeasured(
          process.execPath,
          [...nodeOptions, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...khArgs],
          { cwd, env },
        ),
      );
      log(`CPU profile of one report run written to ${dir}`);
    }

    // In-process breakdown of a report run, each step after a full GC; a fresh snapshot each run, so the Pod
    // Security and spec-fact caches (keyed by object identity) start cold. The first run is a warm-up (JIT).
    const snapshotMs: number[] = [];
    const assessMs: number[] = [];
    const renderMs: number[] = [];
    let shape = { pods: 0, workloads: 0, findings: 0, reportBytes: 0 };
    for (let i = 0; i <= runs; i++) {
      gc();
      let t = performance.now();
      // A fresh client each run, with the CLI's limits (qps 20, burst 40), as each CLI run starts: one client
      // shared by the runs would start each one with its token bucket drained by the run before (2.3 s instead
      // of 1.5 s at 10,000 pods, all of it client-side waiting).
      const cliLike = connect({ kubeconfig });
      const snapshot = await buildSnapshot(readOnly(cliLike)).finally(() => cliLike.close());
      const tSnapshot = performance.now() - t;
      gc();
      t = performance.now();
      const assessment = assess(snapshot, { now: new Date() });
      const tAssess = performance.now() - t;
      gc();
      t = performance.now();
      // As the CLI renders it: streamed (at 150k pods the report is larger than one string can be).
      let reportBytes = 0;
      for (const chunk of renderJsonChunks(assessment)) reportBytes += Buffer.byteLength(chunk);
      const tRender = performance.now() - t;
      shape = {
        pods: snapshot.workloads.reduce((n, w) => n + w.pods.length, 0),
        workloads: snapshot.workloads.length,
        findings: assessment.findings.length,
        reportBytes,
      };
      if (i > 0) {
        snapshotMs.push(tSnapshot);
        assessMs.push(tAssess);
        renderMs.push(tRender);
      }
    }
    const rawPods = totalPods <= RAW_EVAL_MAX ? (await listAllPods(cluster, true)).pods : [];
    const evalMs: Record<'baseline' | 'restricted', number[]> = { baseline: [], restricted: [] };
    for (let i = 0; rawPods.length > 0 && i <= runs; i++) {
      for (const level of ['baseline', 'restricted'] as const) {
        gc();
        const ms = timeEvaluate(rawPods, level);
        if (i > 0) evalMs[level].push(ms);
      }
    }

    const kubectlMedian = withKubectl ? median(kubectlRuns.map((r) => r.wallMs)) : Number.NaN;
    const listMedian = median(listMs);
    const khMedian = median(khRuns.map((r) => r.wallMs));
    const khRss = khRuns.map((r) => r.peakRssMb ?? Number.NaN);
    const kubectlRss = kubectlRuns.map((r) => r.peakRssMb ?? Number.NaN);
    const assessMedian = median(assessMs);
    const result = {
      benchmark: 'inventory',
      date: started.toISOString(),
      machine: {
        ...machineInfo(loadAtStart),
        peakRssSource: hasGnuTime() ? 'GNU time %M (wait4 ru_maxrss)' : '/proc/<pid>/status VmHWM (polled)',
      },
      cluster: {
        kind: cp
          ? 'local control plane (etcd + kube-apiserver + kube-controller-manager) on the same machine'
          : 'external (--kubeconfig)',
        version: cp?.version ?? 'unknown',
        namespaces: seeded.namespaces.length,
        pods: totalPods,
        seedSeconds: round(seeded.durationMs / 1000, 1),
      },
      runs,
      ...(nodeOptions.length > 0 ? { nodeOptions } : {}),
      goals: GOALS,
      results: {
        reportJsonMs: stats(khRuns.map((r) => r.wallMs)),
        reportOverList: round(khMedian / listMedian, 2),
        reportPeakRssMb: { max: round(Math.max(...khRss), 1), ...stats(khRss, 1) },
        ...(withKubectl
          ? {
              kubectlGetPodsMs: stats(kubectlRuns.map((r) => r.wallMs)),
              reportOverKubectl: round(khMedian / kubectlMedian, 2),
              kubectlPeakRssMb: stats(kubectlRss, 1),
            }
          : {}),
        rawListMs: { pageSize: 500, ...stats(listMs) },
        rawListProtobufMs: { pageSize: 500, itemsDecoded: false, ...stats(protobufMs) },
        inProcess: {
          buildSnapshotMs: stats(snapshotMs),
          assessMs: stats(assessMs, 1),
          renderJsonMs: stats(renderMs),
          ...shape,
        },
        assessPodsPerSecond: perSecond(shape.pods, assessMedian),
        ...(rawPods.length
          ? {
              evaluatePodRaw: {
                pods: rawPods.length,
                baselinePodsPerSecond: perSecond(rawPods.length, median(evalMs.baseline)),
                restrictedPodsPerSecond: perSecond(rawPods.length, median(evalMs.restricted)),
              },
            }
          : {}),
        reportStdoutBytes: warm.stdoutBytes,
      },
    };
    const r = result.results;
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const fmt = (n: number) => n.toLocaleString('en-US');
    const rows: Array<[string, string, string, string]> = [
      ['raw paginated LIST of all pods, limit 500 (median)', `${fmt(r.rawListMs.median)} ms`, '', ''],
      [
        '  the same in protobuf, items not decoded (reference)',
        `${fmt(r.rawListProtobufMs.median)} ms`,
        '',
        '',
      ],
      ['kube-harden report --format json (median)', `${fmt(r.reportJsonMs.median)} ms`, '', ''],
      [
        'ratio report / raw LIST',
        `${r.reportOverList}`,
        `<= ${GOALS.reportOverList}`,
        met(r.reportOverList <= GOALS.reportOverList),
      ],
      [
        'kube-harden peak RSS (max of runs)',
        `${r.reportPeakRssMb.max} MB (median ${r.reportPeakRssMb.median})`,
        `<= ${GOALS.peakRssMb} MB`,
        met(r.reportPeakRssMb.max <= GOALS.peakRssMb),
      ],
      ...(r.kubectlGetPodsMs && r.kubectlPeakRssMb
        ? ([
            ['kubectl get pods -A -o json (median)', `${fmt(r.kubectlGetPodsMs.median)} ms`, '', ''],
            ['ratio report / kubectl', `${r.reportOverKubectl}`, '', ''],
            ['kubectl peak RSS (median)', `${r.kubectlPeakRssMb.median} MB`, '', ''],
          ] as Array<[string, string, string, string]>)
        : []),
      ['in-process: buildSnapshot (median)', `${fmt(r.inProcess.buildSnapshotMs.median)} ms`, '', ''],
      [
        `in-process: assess() (${fmt(r.inProcess.workloads)} workloads, ${fmt(r.inProcess.findings)} findings)`,
        `${r.inProcess.assessMs.median} ms = ${fmt(r.assessPodsPerSecond)} pods/s`,
        `>= ${fmt(GOALS.podsPerSecond)} pods/s`,
        met(r.assessPodsPerSecond >= GOALS.podsPerSecond),
      ],
      [
        `in-process: render JSON (${(r.inProcess.reportBytes / 1024 ** 2).toFixed(1)} MB)`,
        `${fmt(r.inProcess.renderJsonMs.median)} ms`,
        '',
        '',
      ],
      ...(r.evaluatePodRaw
        ? ([
            [
              'evaluatePod raw, baseline (no cache)',
              `${fmt(r.evaluatePodRaw.baselinePodsPerSecond)} pods/s`,
              '',
              '',
            ],
            [
              'evaluatePod raw, restricted (no cache)',
              `${fmt(r.evaluatePodRaw.restrictedPodsPerSecond)} pods/s`,
              '',
              '',
            ],
          ] as Array<[string, string, string, string]>)
        : []),
    ];
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
    process.stdout.write(
      `\ninventory benchmark: ${fmt(totalPods)} pods in ${seeded.namespaces.length} namespaces, ${runs} interleaved runs, ${cpus().length} CPUs${nodeOptions.length > 0 ? `, report run with node ${nodeOptions.join(' ')}` : ''}\n\n`,
    );
    for (const row of rows) {
      process.stdout.write(
        `${row
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    if (!args['no-write']) {
      const file =
        args.out ?? join(repoRoot(), 'bench/results', `inventory-${started.toISOString().slice(0, 10)}.json`);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, `${toJson(result)}\n`);
      process.stdout.write(`\nwritten to ${file}\n`);
    }
  } finally {
    cluster.close();
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
