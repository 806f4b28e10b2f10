/**
 * The full command table: the root command with every sub-command and the wizard's flags (`--help`, the wizard,
 * completion, docs/cli.md). main() (src/cli/main.ts) loads it only when it needs all of it: a command word first
 * (`kube-harden report …`) loads that command alone.
 */
import type { CommandSpec } from './cli/args.js';
import { rootTexts, versionFlag } from './cli/root.js';
import { apply } from './commands/apply.js';
import { completion } from './commands/completion.js';
import { exceptions } from './commands/exceptions.js';
import { migrate } from './commands/migrate.js';
import { plan } from './commands/plan.js';
import { preflight } from './commands/preflight.js';
import { report } from './commands/report.js';
import { runs, undo } from './commands/runs.js';
import { schedule } from './commands/schedule.js';
import { steps } from './commands/steps.js';
import type { Command } from './commands/types.js';
import { wizardFlags } from './commands/wizard.js';

export { type MainOptions, main } from './cli/main.js';

/** Every command, in the order `--help` lists them (the same order as COMMAND_NAMES in src/commands/index.ts). */
export const commands: readonly Command[] = [
  report,
  plan,
  apply,
  migrate,
  runs,
  undo,
  exceptions,
  schedule,
  preflight,
  steps,
  completion,
];

export const rootSpec: CommandSpec = {
  ...rootTexts,
  flags: [versionFlag, ...wizardFlags],
  subcommands: commands.map((c) => c.spec),
};
