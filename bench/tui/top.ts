/**
 * The heaviest functions of a V8 CPU profile (`node --cpu-prof`, or `bench/tui/run.js --profile DIR`): self and
 * total time per function, the idle and GC samples apart; of a sampling heap profile (.heapprofile): bytes
 * allocated per function.
 *
 *   node dist/bench/tui/top.js PROFILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' } },
});

interface HeapNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

const where = (f: ProfileNode['callFrame']) => {
  const at = f.url ? `${relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${at}`.trim();
};

/** A sampling heap profile (.heapprofile): bytes allocated per function, self and with its callees. */
function heapTop(file: string, top: number): void {
  const root = (JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  const walk = (n: HeapNode, stack: Set<string>): number => {
    const key = where(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + n.selfSize);
    all += n.selfSize;
    const inner = new Set(stack).add(key);
    let sum = n.selfSize;
    for (const c of n.children) sum += walk(c, inner);
    if (!stack.has(key)) total.set(key, (total.get(key) ?? 0) + sum);
    return sum;
  };
  walk(root, new Set());
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`${title}\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      process.stdout.write(
        `${(v / 1024 / 1024).toFixed(1).padStart(8)} MB ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}\n`,
      );
  };
  process.stdout.write(`${file}: ${(all / 1024 / 1024).toFixed(1)} MB allocated (sampled)\n`);
  show('self', self);
  show('total', total);
}

process.stdout.on('error', () => process.exit(0));

for (const file of positionals) {
  if (file.endsWith('.heapprofile')) {
    heapTop(file, Number(values.top));
    continue;
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => {
    const f = n.callFrame;
    const where = f.url
      ? `${relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}`
      : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    all += dt;
    let node = byId.get(p.samples[i] as number);
    if (!node) continue;
    const leaf = name(node);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    while (node) {
      const key = name(node);
      if (!seen.has(key)) {
        seen.add(key);
        total.set(key, (total.get(key) ?? 0) + dt);
      }
      const up = parent.get(node.id);
      node = up === undefined ? undefined : byId.get(up);
    }
  }
  const top = Number(values.top);
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`${title}\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      process.stdout.write(
        `${v.toFixed(1).padStart(9)} ms ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}\n`,
      );
  };
  process.stdout.write(`${file}: ${all.toFixed(0)} ms sampled\n`);
  show('self', self);
  show('total', total);
}
