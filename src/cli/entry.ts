/**
 * What the executables run (bin/kube-harden.js, bin/kubectl-harden.js, the single-executable build): main() with
 * the user's arguments, then the exit code. A closed stdout (`kube-harden report | head`) ends the program quietly
 * instead of with an EPIPE stack.
 */
import { version } from '../version.js';

export async function runFromExecutable(executable: string | undefined): Promise<void> {
  // `--version` alone needs nothing but package.json: answer before the CLI (parser, commands, client) loads.
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    process.stdout.write(`kube-harden ${version()}\n`);
    return;
  }
  const { main } = await import('./main.js');
  const onStreamError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  };
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
  const code = await main(process.argv.slice(2), { executable });
  process.exitCode = code;
  // Shell completion: answer and leave at once (a cluster connection or credential plugin must not hold the shell).
  if (process.argv[2] === '__complete') process.stdout.write('', () => process.exit(code));
  // Let stdout drain naturally; if a stray handle keeps the loop alive, leave anyway.
  setTimeout(() => process.exit(code), 1500).unref();
}
