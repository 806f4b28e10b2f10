/**
 * The command table by name, each command's module loaded on demand: `kube-harden report …` loads the report
 * command only, not the planner, the steps and the engine that `apply` needs. The full table (for `--help`, the
 * wizard, completion and docs) is `commands` in src/cli.ts; test/unit/cli/lazy-commands.test.ts checks the two agree.
 */
import type { Command } from './types.js';

const loaders = {
  report: async () => (await import('./report.js')).report,
  plan: async () => (await import('./plan.js')).plan,
  apply: async () => (await import('./apply.js')).apply,
  migrate: async () => (await import('./migrate.js')).migrate,
  runs: async () => (await import('./runs.js')).runs,
  undo: async () => (await import('./runs.js')).undo,
  exceptions: async () => (await import('./exceptions.js')).exceptions,
  schedule: async () => (await import('./schedule.js')).schedule,
  preflight: async () => (await import('./preflight.js')).preflight,
  steps: async () => (await import('./steps.js')).steps,
  completion: async () => (await import('./completion.js')).completion,
} satisfies Record<string, () => Promise<Command>>;

export type CommandName = keyof typeof loaders;

/** Every command's name, in the order `--help` lists them. */
export const COMMAND_NAMES = Object.keys(loaders) as readonly CommandName[];

export function isCommandName(word: string | undefined): word is CommandName {
  return word !== undefined && Object.hasOwn(loaders, word);
}

/** The command named `name`, its module loaded now. */
export function loadCommand(name: CommandName): Promise<Command> {
  return loaders[name]();
}
