/**
 * Wizard responsiveness benchmark (not a test: it asserts nothing, it measures). See bench/tui/README.md.
 *
 *   npx tsc -p . && node dist/bench/tui/run.js [--workloads 1500] [--presses 300] [--gap 50] [--out FILE]
 *
 * Renders the real wizard (src/ui/App.tsx) with Ink's real renderer — not ink-testing-library's debug mode —
 * into an in-memory terminal, with a store holding 10,000+ findings, opens phase 0 (every finding, virtualized)
 * and presses keys the way an operator scrolls and filters. Per keypress it records the time from writing the
 * key to stdin until the next frame is written to stdout, and every byte written until the next keypress.
 * Terminal sizes: 80×24 and 120×40.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// Ink decides "CI, so no live frames" when it is first imported, React which build to use: load them (via the
// app) only after this. Production React, as `kube-harden` runs it (src/commands/wizard.ts).
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
process.env.NODE_ENV ??= 'production';

const GOALS = { medianMs: 50, p95Ms: 100, bytesPerKey: 4096 };

const { values: args } = parseArgs({
  options: {
    workloads: { type: 'string', default: '1500' },
    presses: { type: 'string', default: '300' },
    gap: { type: 'string', default: '50' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
  },
});

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A terminal in memory: Ink sees a TTY of the given size; every write is timed and counted. */
class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  writes: Array<{ at: number; bytes: number }> = [];
  last = '';
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.writes.push({ at: performance.now(), bytes });
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

interface Result {
  size: string;
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
  const snap = bigSnapshot(workloads);
  const store = snapshotStore(snap);
  const findings = store.getState().assessment?.findings.length ?? 0;
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
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
  await sleep(100);
  // Connect screen → phases → phase 0: every finding.
  stdin.press(KEYS.enter);
  await sleep(100);
  stdin.press(KEYS.enter);
  await sleep(300);
  if (!stdout.last.includes(`of ${findings.toLocaleString('en-US')}`)) {
    throw new Error(
      `phase 0 did not open with ${findings} findings (${stdout.writes.length} writes); last frame:\n${stdout.last}`,
    );
  }
  // Warm up (JIT, first renders), then measure.
  for (const k of script(40)) {
    stdin.press(KEYS[k]);
    await sleep(gap);
  }
  const latencies: number[] = [];
  const bytes: number[] = [];
  const byKey = new Map<string, number[]>();
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
  instance.unmount();
  instance.cleanup();
  latencies.sort((a, b) => a - b);
  const sortedBytes = [...bytes].sort((a, b) => a - b);
  return {
    size: `${columns}x${rows}`,
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
  };
}

async function main(): Promise<void> {
  const workloads = Number(args.workloads);
  const presses = Number(args.presses);
  const gap = Number(args.gap);
  const results: Result[] = [];
  for (const [c, r] of [
    [80, 24],
    [120, 40],
  ] as const) {
    log(`${c}×${r}: ${presses} keypresses, ${gap} ms apart…`);
    results.push(await measure(c, r, workloads, presses, gap));
  }
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
      `${r.size}: ${ok ? 'within the goals' : 'MISSES a goal'} (frame ${r.frameLines} lines); median ms per key: ${Object.entries(
        r.perKey,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}\n`,
    );
  }
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
        `tui-${new Date().toISOString().slice(0, 10)}.json`,
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
          loadavg: loadavg()
            .map((l) => round(l, 2))
            .join(' '),
          workloads,
          gapMs: gap,
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
