import type { CommandSpec, Parsed } from '../cli/args.js';
import type { Output } from '../cli/output.js';

export interface CommandRun {
  parsed: Parsed;
  output: Output;
  /** Aborted on the first Ctrl-C: finish the in-flight request, then stop. */
  signal: AbortSignal;
}

export interface Command {
  spec: CommandSpec;
  run(ctx: CommandRun): Promise<number>;
}
