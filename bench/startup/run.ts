/**
 * Start-up benchmark: wall time of short CLI runs against the floor `node -e 0`, on each Node binary given.
 *
 *   npm run build && node dist/bench/startup/run.js [--runs 9] [--node PATH]... [--baseline DIR] [--out FILE] [--no-write]
 *
 * Cases: `node -e 0`, `kube-harden --version`, `kube-harden --help`, `kube-harden report --manifests
 * examples/legacy-cluster` (output to /dev/null). `--baseline DIR`: a second checkout (built, with node_modules)
 * measured in the same loop, interleaved run by run, for a before/after. Medians of `--runs` runs after one
 * warm-up of each (the page cache, and the compile cache where Node has one); the machine's load average is
 * printed and recorded beside the figures. Nothing asserts: see bench/README.md for the goals.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(import.meta.dirname, '..', '..', '..');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    node: { type: 'string', multiple: true },
    baseline: { type: 'string' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});

const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a positive integer');

/** This Node, and the pinned Node 24 of scripts/node24.sh (fetched once into the cache, checked each time). */
function defaultNodes(): string[] {
  const nodes = [process.execPath];
  try {
    const node24 = execFileSync(join(repo, 'scripts', 'node24.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120_000,
    }).trim();
    if (node24 && existsSync(node24) && node24 !== process.execPath) nodes.push(node24);
  } catch {
    // no Node 24 (offline, other platform): this Node only
  }
  return nodes;
}

interface Case {
  name: string;
  args: (root: string) => string[];
}

const CASES: Case[] = [
  { name: 'node -e 0', args: () => ['-e', '0'] },
  { name: 'kube-harden --version', args: (root) => [join(root, 'bin', 'kube-harden.js'), '--version'] },
  { name: 'kube-harden --help', args: (root) => [join(root, 'bin', 'kube-harden.js'), '--help'] },
  {
    name: 'report --manifests examples/legacy-cluster',
    args: (root) => [
      join(root, 'bin', 'kube-harden.js'),
      'report',
      '--manifests',
      join(root, 'examples', 'legacy-cluster'),
    ],
  },
];

/** GNU time, for the child's CPU time (user + system): far steadier than wall time on a loaded machine. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function timeOnce(node: string, argv: string[], cwd: string): { wallMs: number; cpuMs: number | undefined } {
  const [command, commandArgs] = GNU_TIME ? [GNU_TIME, ['-f', '\n%U %S', node, ...argv]] : [node, argv];
  const started = process.hrtime.bigint();
  const r = spawnSync(command, commandArgs, {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0 && r.status !== 7) {
    throw new Error(`${node} ${argv.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`);
  }
  const times = GNU_TIME ? /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr.toString()) : null;
  const cpuMs = times ? (Number(times[1]) + Number(times[2])) * 1000 : undefined;
  return { wallMs, cpuMs };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Row {
  node: string;
  nodeVersion: string;
  tree: 'current' | 'baseline';
  case: string;
  runsMs: number[];
  medianMs: number;
  /** median ÷ the median of `node -e 0` on the same Node in the same loop. */
  ratio: number;
  /** CPU time (user + system) of the child, median, when GNU time is there (10 ms resolution). */
  cpuMs?: number;
  cpuRatio?: number;
}

const nodes = args.node?.length ? args.node : defaultNodes();
const trees: Array<{ tree: Row['tree']; root: string }> = [{ tree: 'current', root: repo }];
if (args.baseline) trees.push({ tree: 'baseline', root: resolve(args.baseline) });

const loadBefore = loadavg();
const rows: Row[] = [];
for (const node of nodes) {
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const samples = new Map<string, number[]>();
  const cpuSamples = new Map<string, number[]>();
  const key = (tree: string, c: Case) => `${tree}\0${c.name}`;
  // One warm-up each, then `runs` rounds, each round every case of every tree in turn (order alternating).
  for (let round = -1; round < runs; round++) {
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    for (const c of CASES) {
      for (const { tree, root } of order) {
        if (c.name === 'node -e 0' && tree === 'baseline') continue;
        const { wallMs, cpuMs } = timeOnce(node, c.args(root), root);
        if (round < 0) continue;
        const list = samples.get(key(tree, c)) ?? [];
        list.push(wallMs);
        samples.set(key(tree, c), list);
        if (cpuMs !== undefined) {
          const cpu = cpuSamples.get(key(tree, c)) ?? [];
          cpu.push(cpuMs);
          cpuSamples.set(key(tree, c), cpu);
        }
      }
    }
  }
  const floor = median(samples.get(key('current', CASES[0] as Case)) ?? []);
  const cpuFloor = median(cpuSamples.get(key('current', CASES[0] as Case)) ?? [0]);
  for (const { tree } of trees) {
    for (const c of CASES) {
      const list = samples.get(key(c.name === 'node -e 0' ? 'current' : tree, c));
      if (!list) continue;
      const m = median(list);
      const cpu = cpuSamples.get(key(c.name === 'node -e 0' ? 'current' : tree, c));
      const cpuMs = cpu?.length ? median(cpu) : undefined;
      rows.push({
        node,
        nodeVersion,
        tree,
        case: c.name,
        runsMs: list.map((x) => round(x)),
        medianMs: round(m),
        ratio: round(m / floor, 2),
        ...(cpuMs !== undefined
          ? { cpuMs: round(cpuMs), ...(cpuFloor > 0 ? { cpuRatio: round(cpuMs / cpuFloor, 2) } : {}) }
          : {}),
      });
    }
  }
}
const loadAfter = loadavg();

const header = ['node', 'tree', 'case', 'wall ms', '÷ node -e 0', 'cpu ms', '÷ node -e 0'];
const table = rows.map((r) => [
  r.nodeVersion,
  r.tree,
  r.case,
  r.medianMs.toFixed(1),
  r.ratio.toFixed(2),
  r.cpuMs?.toFixed(0) ?? '-',
  r.cpuRatio?.toFixed(2) ?? '-',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => (t[i] as string).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
process.stdout.write(
  `${line(header)}\n${table.map(line).join('\n')}\n` +
    `${runs} runs each (medians; cpu = user + system of the child), interleaved; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after; ${cpus().length} CPUs\n`,
);

if (!args['no-write']) {
  const file =
    args.out ?? join(repo, 'bench', 'results', `startup-${new Date().toISOString().slice(0, 10)}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        loadavg: { before: loadBefore.map((l) => round(l, 2)), after: loadAfter.map((l) => round(l, 2)) },
        runs,
        goals: { versionRatio: 2, reportMs: 350 },
        rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`written to ${file}\n`);
}
