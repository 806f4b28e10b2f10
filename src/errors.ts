/**
 * Typed errors. Expected errors carry a one-line message (what happened) and a hint (what to try), and map to a
 * documented exit code (README "Exit codes"). Only `BugError` (and anything untyped) is a bug: it prints a stack
 * trace only when DEBUG=kube-harden is set.
 */

/** Documented process exit codes. Keep README.md "Exit codes" in sync. */
export const ExitCode = {
  ok: 0,
  /** An unexpected error, or a change that failed while applying. */
  error: 1,
  /** Bad flags or command, or an interactive command without a terminal. (`plan --detailed-exitcode`: changes.) */
  usage: 2,
  /** The kubeconfig is missing or broken, the context does not exist, or its credential plugin failed. */
  config: 3,
  /** The API server cannot be reached: connection refused, DNS, TLS, or a timeout. */
  unreachable: 4,
  /** The API server rejected the credentials (401) or refused a request the command cannot do without (403). */
  auth: 5,
  /** An input file is invalid: manifests, exceptions register, plan or config file. */
  input: 6,
  /** The command completed, but some resources could not be read: the result contains unknowns. */
  incomplete: 7,
  /** Some changes were refused because their target changed (stale plan or preview) or a field manager conflicts. */
  refused: 8,
  /** `exceptions review`: an exception has expired or covers nothing (CI fails until the register is fixed). */
  reviewDue: 9,
  /** Interrupted by the operator (Ctrl-C). */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class KubeHardenError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** What to try next, one line; printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Bad flags, unknown commands, conflicting options. */
export class UsageError extends KubeHardenError {
  readonly exitCode = ExitCode.usage;
}

/** Kubeconfig problems: missing file, unknown context, broken YAML, a failing or hanging exec plugin. */
export class ConfigError extends KubeHardenError {
  readonly exitCode = ExitCode.config;
}

/** An invalid input file; `file` and `line` name the place when known. */
export class InputError extends KubeHardenError {
  readonly exitCode = ExitCode.input;
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, opts: { file?: string; line?: number; hint?: string; cause?: unknown } = {}) {
    const where = opts.file ? `${opts.file}${opts.line ? `:${opts.line}` : ''}: ` : '';
    super(`${where}${message}`, opts.hint, { cause: opts.cause });
    this.file = opts.file;
    this.line = opts.line;
  }
}

/** The operator stopped the work (Ctrl-C, or declined a confirmation that was required). */
export class AbortError extends KubeHardenError {
  readonly exitCode = ExitCode.interrupted;
}

/** A broken invariant inside kube-harden. */
export class BugError extends KubeHardenError {
  readonly exitCode = ExitCode.error;
}

/** A command that finished but must report a non-zero status (incomplete inventory, refused changes). */
export class StatusError extends KubeHardenError {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, hint?: string) {
    super(message, hint);
    this.exitCode = exitCode;
  }
}

export function isDebug(): boolean {
  return (process.env.DEBUG ?? '').split(',').some((d) => d.trim() === 'kube-harden' || d.trim() === '*');
}
