/**
 * Wizard responsiveness benchmark (not a test: it asserts nothing, it measures). See bench/tui/README.md.
 *
 *   npx tsc -p . && node dist/bench/tui/run.js [--findings 10000 | --workloads 1500] [--presses 300] [--gap 50]
 *
 * Renders the real wizard (src/ui/App.tsx) with Ink's real renderer — not ink-testing-library's debug mode —
 * into an in-memory terminal, with a store holding 10,000+ findings (150,000 with --findings 150000), opens
 * phase 0 (every finding, virtualized) and presses keys the way an operator scrolls and filters. Per keypress it
 * records the time from writing the key to stdin until the next frame is written to stdout, and every byte
 * written until the next keypress. Also the first frames (start, phases, phase 0) and the process's memory.
 * Terminal sizes: 80×24 and 120×40, each in a fresh child process (so first frames and memory are a cold
 * wizard's, not the previous size's).
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// Ink decides "CI, so no live frames" when it is first imported, React which build to use: load them (via the
// app) only after this. Production React, as `kube-harden` runs it (src/commands/wizard.ts).
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
process.env.NODE_ENV ??= 'production';

const GOALS = { medianMs: 50, p95Ms: 100, bytesPerKey: 4096 };

const { values: args } = parseArgs({
  options: {
    /** Aim at about this many findings (the workloads are derived); wins over --workloads. */
    findings: { type: 'string' },
    workloads: { type: 'string', default: '1500' },
    /** Internal: measure one terminal size (`80x24`) in this process and write the result to --child-out. */
    child: { type: 'string' },
    'child-out': { type: 'string' },
    presses: { type: 'string', default: '300' },
    gap: { type: 'string', default: '50' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    /** Write CPU and allocation profiles (.cpuprofile, .heapprofile: Chrome DevTools, bench/tui/top.js) of opening the phases screen, phase 0, and of the keys. */
    profile: { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A terminal in memory: Ink sees a TTY of the given size; every write is timed and counted. */
class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  writes: Array<{ at: number; bytes: number; text: string }> = [];
  last = '';
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.writes.push({ at: performance.now(), bytes, text: typeof chunk === 'string' ? chunk : '' });
    // Skip the synchronized-output markers around a frame: keep the frame itself.
    if (typeof chunk === 'string' && chunk.length > 16) this.last = chunk;
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') done();
    return true;
  };
}

class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  press(seq: string): void {
    this.data = seq;
    this.emit('readable');
    this.emit('data', seq);
  }
}

const KEYS = {
  down: '\u001B[B',
  up: '\u001B[A',
  pgdn: '\u001B[6~',
  pgup: '\u001B[5~',
  end: '\u001B[F',
  home: '\u001B[H',
  enter: '\r',
  x: 'x',
};

/** An operator reading a long list: mostly ↓, some paging, jumps, and the excepted filter (a 10k-row refilter). */
function script(n: number): Array<keyof typeof KEYS> {
  const pattern: Array<keyof typeof KEYS> = [
    'down',
    'down',
    'down',
    'down',
    'down',
    'down',
    'pgdn',
    'down',
    'up',
    'up',
    'pgdn',
    'pgup',
    'down',
    'x',
    'down',
    'x',
    'end',
    'up',
    'home',
    'down',
  ];
  return Array.from({ length: n }, (_, i) => pattern[i % pattern.length] as keyof typeof KEYS);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

interface Memory {
  /** Resident set size, MB. */
  rssMb: number;
  /** V8 heap in use after a full GC, MB (with --expose-gc, which the parent passes its children). */
  heapMb: number;
}

interface Result {
  size: string;
  workloads: number;
  findings: number;
  presses: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  medianBytes: number;
  p95Bytes: number;
  maxBytes: number;
  frameLines: number;
  /** Median keypress → frame per key. */
  perKey: Record<string, number>;
  /**
   * CPU time (user + system, all threads: GC included) the process spent per keypress while the keys were pressed,
   * ms. Less sensitive to the machine's load than the wall-clock figures above.
   */
  cpuMsPerKey: number;
  /** Frames written per keypress (writes other than cursor and synchronized-output markers). */
  framesPerKey: number;
  /** Building the snapshot and assessing it (not the wizard: the store the wizard is handed), ms. */
  assessMs: number;
  /** render() → first frame (connect screen), ms. */
  startMs: number;
  /** Enter on connect → first frame of the phases screen, ms. */
  phasesMs: number;
  /** Enter on phases → first frame of phase 0 (every finding), ms. */
  phase0Ms: number;
  memory: {
    /** The store alone: snapshot + assessment, before the wizard renders. */
    store: Memory;
    /** Phase 0 open. */
    phase0: Memory;
    /** After the keypresses. */
    end: Memory;
    /** Peak RSS of the process, MB. */
    peakRssMb: number;
  };
}

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

function memory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapMb: mb(m.heapUsed) };
}

/** Workloads for about `findings` findings: bigSnapshot's findings grow linearly with its workloads. */
async function workloadsFor(findings: number): Promise<number> {
  const { bigSnapshot } = await import('../../test/ui/support/fixtures.js');
  const { assess } = await import('../../src/policy/assess.js');
  const { NOW } = await import('../../test/fixtures/snapshots/builder.js');
  const at = (w: number) => assess(bigSnapshot(w), { now: NOW }).findings.length;
  const [a, b] = [at(100), at(200)];
  const perWorkload = (b - a) / 100;
  return Math.max(1, Math.round((findings - (a - 100 * perWorkload)) / perWorkload));
}

/** Resolves with the time of the first write at or after `from`, once the writes since then include `text`. */
async function frameWith(stdout: FakeStdout, from: number, text: string): Promise<number> {
  const deadline = performance.now() + 120_000;
  const written = () =>
    stdout.writes
      .slice(from)
      .map((w) => w.text)
      .join('');
  while (!written().includes(text)) {
    if (performance.now() > deadline) throw new Error(`no frame with "${text}"; last frame:\n${stdout.last}`);
    await sleep(5);
  }
  return (stdout.writes[from] as { at: number }).at;
}

/** A CPU profile of what runs until the returned function is called: `<--profile>/<name>.cpuprofile`. */
async function profile(name: string): Promise<() => Promise<void>> {
  const dir = args.profile;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    const { profile: heap } = await session.post('HeapProfiler.stopSampling');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    writeFileSync(join(dir, `${name}.heapprofile`), JSON.stringify(heap));
    session.disconnect();
  };
}

async function measure(
  columns: number,
  rows: number,
  workloads: number,
  presses: number,
  gap: number,
): Promise<Result> {
  const [{ createElement }, { render }, { App }, { diffingStream }, { bigSnapshot, snapshotStore }] =
    await Promise.all([
      import('react'),
      import('ink'),
      import('../../src/ui/App.js'),
      import('../../src/ui/frame-diff.js'),
      import('../../test/ui/support/fixtures.js'),
    ]);
  const a0 = performance.now();
  const snap = bigSnapshot(workloads);
  const store = snapshotStore(snap);
  const assessMs = performance.now() - a0;
  const findings = store.getState().assessment?.findings.length ?? 0;
  const storeMemory = memory();
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
  const t0 = performance.now();
  // No JSX in this file: react/jsx-runtime would load (in the development build) before NODE_ENV is set above.
  const instance = render(
    createElement(App, { store, options: { readOnly: false, color: true, autoStart: false } }),
    {
      // As src/ui/render.tsx does: only changed lines are rewritten. --full measures stock Ink.
      stdout: args.full
        ? (stdout as unknown as NodeJS.WriteStream)
        : diffingStream(stdout as unknown as NodeJS.WriteStream),
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: stdout as unknown as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  const startMs = (await frameWith(stdout, 0, 'kube-harden › Connect')) - t0;
  await sleep(100);
  // Connect screen → phases → phase 0: every finding.
  let from = stdout.writes.length;
  const stopPhases = await profile(`phases-${columns}x${rows}`);
  let t = performance.now();
  stdin.press(KEYS.enter);
  const phasesMs = (await frameWith(stdout, from, 'kube-harden › Phases')) - t;
  await stopPhases();
  await sleep(100);
  from = stdout.writes.length;
  const stopPhase0 = await profile(`phase0-${columns}x${rows}`);
  t = performance.now();
  stdin.press(KEYS.enter);
  // "12,202 of 12,202": the list's count line (at 80 columns, the second number may be clipped).
  const phase0Ms = (await frameWith(stdout, from, `${findings.toLocaleString('en-US')} of`)) - t;
  await stopPhase0();
  await sleep(300);
  const phase0Memory = memory();
  await sleep(100);
  // Warm up (JIT, first renders), then measure.
  for (const k of script(40)) {
    stdin.press(KEYS[k]);
    await sleep(gap);
  }
  const latencies: number[] = [];
  const bytes: number[] = [];
  const writesBefore = stdout.writes.length;
  const cpuBefore = process.cpuUsage();
  const byKey = new Map<string, number[]>();
  const stopKeys = await profile(`keys-${columns}x${rows}`);
  for (const k of script(presses)) {
    const from = stdout.writes.length;
    const t0 = performance.now();
    stdin.press(KEYS[k]);
    await sleep(gap);
    const written = stdout.writes.slice(from);
    const first = written[0];
    if (first) {
      latencies.push(first.at - t0);
      byKey.set(k, [...(byKey.get(k) ?? []), first.at - t0]);
    }
    bytes.push(written.reduce((n, w) => n + w.bytes, 0));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const frames = stdout.writes.slice(writesBefore).filter((w) => w.text.length > 16).length;
  await stopKeys();
  const frameLines = stdout.last.split('\n').length;
  const perKey: Record<string, number> = {};
  for (const [k, v] of byKey)
    perKey[k] = round(
      quantile(
        [...v].sort((a, b) => a - b),
        0.5,
      ),
      2,
    );
  const endMemory = memory();
  instance.unmount();
  instance.cleanup();
  latencies.sort((a, b) => a - b);
  const sortedBytes = [...bytes].sort((a, b) => a - b);
  return {
    size: `${columns}x${rows}`,
    workloads,
    findings,
    presses: latencies.length,
    medianMs: round(quantile(latencies, 0.5), 2),
    p95Ms: round(quantile(latencies, 0.95), 2),
    maxMs: round(latencies.at(-1) ?? Number.NaN, 2),
    medianBytes: quantile(sortedBytes, 0.5),
    p95Bytes: quantile(sortedBytes, 0.95),
    maxBytes: sortedBytes.at(-1) ?? 0,
    frameLines,
    perKey,
    cpuMsPerKey: round((cpu.user + cpu.system) / 1000 / presses, 2),
    framesPerKey: round(frames / presses, 2),
    assessMs: round(assessMs, 0),
    startMs: round(startMs, 1),
    phasesMs: round(phasesMs, 1),
    phase0Ms: round(phase0Ms, 1),
    memory: {
      store: storeMemory,
      phase0: phase0Memory,
      end: endMemory,
      peakRssMb: round(process.resourceUsage().maxRSS / 1024, 1),
    },
  };
}

/** One terminal size in a fresh process (this script, --child), with --expose-gc for the heap figures. */
function measureInChild(size: string, workloads: number): Result {
  const out = join(tmpdir(), `kube-harden-bench-tui-${process.pid}-${size}.json`);
  const argv = [
    ...process.execArgv.filter((a) => a !== '--expose-gc'),
    '--expose-gc',
    fileURLToPath(import.meta.url),
    '--child',
    size,
    '--child-out',
    out,
    '--workloads',
    String(workloads),
    '--presses',
    String(args.presses),
    '--gap',
    String(args.gap),
    ...(args.full ? ['--full'] : []),
    ...(args.profile ? ['--profile', args.profile] : []),
  ];
  execFileSync(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
  const result = JSON.parse(readFileSync(out, 'utf8')) as Result;
  rmSync(out, { force: true });
  return result;
}

async function main(): Promise<void> {
  const presses = Number(args.presses);
  const gap = Number(args.gap);
  if (args.child) {
    const [c, r] = args.child.split('x').map(Number);
    const result = await measure(c as number, r as number, Number(args.workloads), presses, gap);
    writeFileSync(args['child-out'] as string, JSON.stringify(result));
    return;
  }
  const workloads = args.findings ? await workloadsFor(Number(args.findings)) : Number(args.workloads);
  const loadBefore = loadavg();
  const results: Result[] = [];
  for (const size of ['80x24', '120x40']) {
    log(`${size}: ${workloads} workloads, ${presses} keypresses, ${gap} ms apart…`);
    results.push(measureInChild(size, workloads));
  }
  const loadAfter = loadavg();
  const head = [
    'terminal',
    'findings',
    'keys',
    'median ms',
    'p95 ms',
    'max ms',
    'median B',
    'p95 B',
    'max B',
    'CPU ms/key',
    'phase 0 ms',
    'peak RSS MB',
  ];
  const rows = results.map((r) => [
    r.size,
    r.findings.toLocaleString('en-US'),
    String(r.presses),
    String(r.medianMs),
    String(r.p95Ms),
    String(r.maxMs),
    String(r.medianBytes),
    String(r.p95Bytes),
    String(r.maxBytes),
    String(r.cpuMsPerKey),
    String(r.phase0Ms),
    String(r.memory.peakRssMb),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(
    `goals: median ≤ ${GOALS.medianMs} ms, p95 ≤ ${GOALS.p95Ms} ms keypress → frame; ≤ ${GOALS.bytesPerKey} B per keypress\n`,
  );
  for (const r of results) {
    const ok = r.medianMs <= GOALS.medianMs && r.p95Ms <= GOALS.p95Ms && r.p95Bytes <= GOALS.bytesPerKey;
    process.stdout.write(
      `${r.size}: ${ok ? 'within the goals' : 'MISSES a goal'} (frame ${r.frameLines} lines, ${r.framesPerKey} frames per key); median ms per key: ${Object.entries(
        r.perKey,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}\n`,
    );
    process.stdout.write(
      `${r.size}: first frames: start ${r.startMs} ms, phases ${r.phasesMs} ms, phase 0 ${r.phase0Ms} ms (snapshot + assess ${r.assessMs} ms, before the wizard); memory MB (RSS/heap): store ${r.memory.store.rssMb}/${r.memory.store.heapMb}, phase 0 open ${r.memory.phase0.rssMb}/${r.memory.phase0.heapMb}, after the keys ${r.memory.end.rssMb}/${r.memory.end.heapMb}, peak RSS ${r.memory.peakRssMb}\n`,
    );
  }
  const load = (l: number[]) => l.map((x) => round(x, 2)).join(' ');
  process.stdout.write(`load average: ${load(loadBefore)} before, ${load(loadAfter)} after\n`);
  if (!args['no-write']) {
    const file =
      args.out ??
      join(
        import.meta.dirname,
        '..',
        '..',
        '..',
        'bench',
        'tui',
        'results',
        `tui-${new Date().toISOString().slice(0, 10)}-${results[0]?.findings ?? 0}.json`,
      );
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          cpu: cpus()[0]?.model,
          loadavg: load(loadBefore),
          loadavgAfter: load(loadAfter),
          workloads,
          gapMs: gap,
          full: args.full,
          goals: GOALS,
          results,
        },
        null,
        2,
      )}\n`,
    );
    log(`written ${file}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
