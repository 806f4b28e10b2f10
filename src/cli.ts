/**
 * argv → command → exit code. Expected errors print one line (plus a hint) and exit with their documented code;
 * only bugs print a stack, and only with DEBUG=kube-harden.
 */
import {
  type CommandSpec,
  parseCommandLine,
  programNameFor,
  renderHelp,
  setProgramName,
  withProgramName,
} from './cli/args.js';
import { formatError, makeOutput, type Output } from './cli/output.js';
import { COMPLETE_COMMAND, runComplete } from './commands/completion.js';
import { commands } from './commands/index.js';
import { isWizardInvocation, runWizard, wizardFlags } from './commands/wizard.js';
import { ExitCode, isDebug, KubeHardenError } from './errors.js';
import { version } from './version.js';

export const rootSpec: CommandSpec = {
  name: 'kube-harden',
  summary:
    'kube-harden takes a Kubernetes cluster from deployed to hardened in safe, reviewable, undoable phases.',
  usage: '[flags]            the interactive wizard (in a terminal)\nCOMMAND [flags]',
  description: `Every phase previews its changes as a diff against the live objects (server-side dry-run, with the API
server's own warnings) and writes only what you confirm; every run can be undone.

Exit codes: 0 ok; 1 error or a failed change; 2 usage (or no terminal for the wizard); 3 kubeconfig; 4 cluster
unreachable; 5 credentials rejected or forbidden; 6 invalid input file; 7 incomplete (unknowns); 8 changes refused
(stale or conflicting); 9 \`exceptions review\`: an exception expired or is unused; 130 interrupted. \`plan --detailed-exitcode\`: 0 no changes, 2 changes, 1 error.`,
  flags: [{ name: 'version', short: 'v', type: 'boolean', description: 'print the version' }, ...wizardFlags],
  maxPositionals: 0,
  subcommands: commands.map((c) => c.spec),
  examples: [
    'kube-harden report --manifests examples/legacy-cluster',
    'kube-harden report --context prod --format json --out report.json',
  ],
};

export interface MainOptions {
  /** The executable the user ran (`process.argv[1]`): named `kubectl-harden…`, help and hints say `kubectl harden`. */
  executable?: string;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  setProgramName(programNameFor(options.executable));
  // What the shell completion scripts call on TAB (hidden: not a command in --help).
  if (argv[0] === COMPLETE_COMMAND) return runComplete(argv.slice(1), rootSpec, process.stdout);
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
    // No command word: the wizard's flags (`kube-harden -n shop` must not read "shop" as a command).
    const parsed = isWizardInvocation(argv)
      ? parseCommandLine(argv, { ...rootSpec, subcommands: [] })
      : parseCommandLine(argv, rootSpec);
    output = makeOutput({ noColor: parsed.flags['no-color'] === true });
    if (parsed.flags.help) {
      output.out.write(
        withProgramName(
          renderHelp(parsed.path.length === 0 ? rootSpec : parsed.command, parsed.path),
          rootSpec,
        ),
      );
      return ExitCode.ok;
    }
    if (parsed.path.length === 0) {
      if (parsed.flags.version) {
        output.out.write(`kube-harden ${version()}\n`);
        return ExitCode.ok;
      }
      return await runWizard({ parsed, output, signal: abort.signal });
    }
    const command = commands.find((c) => c.spec.name === parsed.path[0]);
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
