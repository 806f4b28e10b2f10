/**
 * argv → command → exit code. Expected errors print one line (plus a hint) and exit with their documented code;
 * only bugs print a stack, and only with DEBUG=kube-harden.
 *
 * What loads is what the command line needs: with a command word first (`kube-harden report …`, as the examples
 * and the completion scripts write it) only that command's module; otherwise (the wizard, `--help`, a word that
 * is not a command, flags before the command) the full command table of src/cli.ts.
 */
import { COMMAND_NAMES, type CommandName, isCommandName, loadCommand } from '../commands/index.js';
import type { Command } from '../commands/types.js';
import { ExitCode, isDebug, KubeHardenError } from '../errors.js';
import { version } from '../version.js';
import {
  type CommandSpec,
  parseCommandLine,
  programNameFor,
  renderHelp,
  setProgramName,
  withProgramName,
} from './args.js';
import { formatError, makeOutput, type Output } from './output.js';
import { rootTexts, versionFlag } from './root.js';

/** What the shell completion scripts call on TAB (COMPLETE_COMMAND of src/commands/completion.ts). */
const COMPLETE_COMMAND = '__complete';

export interface MainOptions {
  /** The executable the user ran (`process.argv[1]`): named `kubectl-harden…`, help and hints say `kubectl harden`. */
  executable?: string;
}

interface Table {
  root: CommandSpec;
  commands: readonly Command[];
  /** The root for `withProgramName`: every command's name. */
  names: CommandSpec;
}

/** The root with `name` as its only sub-command (parsing `name …` needs no other). */
async function tableOf(name: CommandName): Promise<Table> {
  const command = await loadCommand(name);
  const stub = (n: string): CommandSpec => ({
    name: n,
    summary: '',
    usage: '',
    flags: [],
    maxPositionals: 0,
  });
  return {
    root: { ...rootTexts, flags: [versionFlag], subcommands: [command.spec] },
    commands: [command],
    names: { ...rootTexts, flags: [], subcommands: COMMAND_NAMES.map(stub) },
  };
}

async function fullTable(): Promise<Table> {
  const { rootSpec, commands } = await import('../cli.js');
  return { root: rootSpec, commands, names: rootSpec };
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  setProgramName(programNameFor(options.executable));
  if (argv[0] === COMPLETE_COMMAND) {
    const [{ runComplete }, { root }] = await Promise.all([import('../commands/completion.js'), fullTable()]);
    return runComplete(argv.slice(1), root, process.stdout);
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(
        '\ninterrupted: finishing the request in flight, then stopping (Ctrl-C again to quit now)\n',
      );
      abort.abort(new InterruptedSignal());
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSigint);
  let output = makeOutput();
  try {
    const first = argv[0];
    const table = isCommandName(first) ? await tableOf(first) : await fullTable();
    const { root } = table;
    // No command word: the wizard's flags (`kube-harden -n shop` must not read "shop" as a command).
    const wizard = isCommandName(first) ? undefined : await import('../commands/wizard.js');
    const parsed = wizard?.isWizardInvocation(argv)
      ? parseCommandLine(argv, { ...root, subcommands: [] })
      : parseCommandLine(argv, root);
    output = makeOutput({ noColor: parsed.flags['no-color'] === true });
    if (parsed.flags.help) {
      output.out.write(
        withProgramName(
          renderHelp(parsed.path.length === 0 ? root : parsed.command, parsed.path),
          table.names,
        ),
      );
      return ExitCode.ok;
    }
    if (parsed.path.length === 0) {
      if (parsed.flags.version) {
        output.out.write(`kube-harden ${version()}\n`);
        return ExitCode.ok;
      }
      const { runWizard } = wizard ?? (await import('../commands/wizard.js'));
      return await runWizard({ parsed, output, signal: abort.signal });
    }
    const command = table.commands.find((c) => c.spec.name === parsed.path[0]);
    if (!command) throw new Error(`no handler for ${parsed.path.join(' ')}`);
    return await command.run({ parsed, output, signal: abort.signal });
  } catch (error) {
    return reportError(error, output, abort.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

class InterruptedSignal extends Error {
  constructor() {
    super('interrupted');
  }
}

function reportError(error: unknown, output: Output, signal: AbortSignal): number {
  if (signal.aborted && (error instanceof InterruptedSignal || (error as Error)?.name === 'AbortError')) {
    output.err.write('stopped.\n');
    return ExitCode.interrupted;
  }
  if (error instanceof KubeHardenError) {
    output.err.write(formatError(error, output.color));
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  output.err.write(
    formatError(Object.assign(new Error(`unexpected error: ${e.message}`), { stack: e.stack }), output.color),
  );
  if (!isDebug())
    output.err.write(
      '  (this is a bug in kube-harden; run with DEBUG=kube-harden for details and report it)\n',
    );
  return ExitCode.error;
}
