/** Run the built CLI (`bin/kube-harden.js` → dist/) as a user would, capturing output and the exit code. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const repoRoot = join(import.meta.dirname, '..', '..');

/** The built CLI with the test-only steps (`fixedStep` id "t") known to `apply --plan` (see its file). */
export const cliWithTestSteps = join(repoRoot, 'dist', 'test', 'support', 'cli-with-test-steps.js');

export function runCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    input?: string;
    timeoutMs?: number;
    cwd?: string;
    /** Run the CLI with the test-only steps (`cliWithTestSteps`). */
    testSteps?: boolean;
  } = {},
): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const entry = options.testSteps ? cliWithTestSteps : join(repoRoot, 'bin', 'kube-harden.js');
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: performance.now() - started });
    });
    child.stdin.end(options.input ?? '');
  });
}
