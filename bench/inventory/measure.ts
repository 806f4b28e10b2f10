/** Timing helpers: a child process's wall time and peak RSS, medians. */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

export interface ProcessRun {
  wallMs: number;
  /** Peak resident set size of the process (MB = 2^20 bytes); null when it could not be measured. */
  peakRssMb: number | null;
  exitCode: number | null;
  /** Bytes written to stdout. */
  stdoutBytes: number;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';

/** Whether /usr/bin/time is GNU time (`-f %M` = max RSS in KiB from wait4's rusage: the exact peak). */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/**
 * Run a command with stdout discarded into /dev/null by the kernel (no pipe to drain, so the consumer costs
 * nothing), measuring wall time from spawn to exit. Peak RSS: GNU time's `%M` when available, else the last
 * VmHWM read from /proc/<pid>/status (polled every 10 ms; VmHWM is a high-water mark, so only a peak in the
 * last few ms before exit can be missed).
 */
export async function runMeasured(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; countStdout?: boolean } = {},
): Promise<ProcessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-bench-'));
  const timeFile = join(dir, 'time.txt');
  const gnu = hasGnuTime();
  const [bin, argv] = gnu ? [GNU_TIME, ['-f', '%M', '-o', timeFile, command, ...args]] : [command, args];
  const out = options.countStdout ? 'pipe' : openSync('/dev/null', 'w');
  try {
    const started = performance.now();
    const child = spawn(bin, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    let stdoutBytes = 0;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout?.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
    });
    let hwmKb = 0;
    const poll = gnu
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m?.[1]) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            // exited
          }
        }, 10);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    const wallMs = performance.now() - started;
    if (poll) clearInterval(poll);
    let peakKb: number | null = hwmKb || null;
    if (gnu) {
      const m = /(\d+)\s*$/.exec(readFileSync(timeFile, 'utf8'));
      peakKb = m?.[1] ? Number(m[1]) : null;
    }
    return {
      wallMs,
      peakRssMb: peakKb === null ? null : peakKb / 1024,
      exitCode,
      stdoutBytes,
      stderr,
    };
  } finally {
    if (typeof out === 'number') closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** JSON as the repository's formatter (Biome) prints it: arrays of numbers and strings on one line when they fit. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /^( *)("[^"]*": )?\[\n((?:\s+(?:-?[\d.e+-]+|"[^"\n]*"|true|false|null),?\n)+)\s*\]/gm,
    (all, indent: string, key: string | undefined, body: string) => {
      const inline = `${indent}${key ?? ''}[${body
        .trim()
        .split(/,?\n\s*/)
        .join(', ')}]`;
      return inline.length + 1 <= 110 ? inline : all;
    },
  );
}

/** The machine a result was measured on; `loadAtStart` from `loadAverage()` when the run began. */
export function machineInfo(loadAtStart: number[]) {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    // 1/5/15-minute load averages: the machine may be shared; above the CPU count, expect noisy figures.
    loadAverage: { start: loadAtStart, end: loadAverage() },
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

/** The 1/5/15-minute load averages, rounded. */
export function loadAverage(): number[] {
  return loadavg().map((x) => round(x, 2));
}
