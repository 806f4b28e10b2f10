/**
 * What the executables run (bin/kube-harden.js, bin/kubectl-harden.js, the single-executable build): main() with
 * the user's arguments, then the exit code. A closed stdout (`kube-harden report | head`) ends the program quietly
 * instead of with an EPIPE stack.
 */
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDebug } from '../errors.js';
import { version } from '../version.js';

/**
 * Node ≥ 22.1 keeps V8's compiled code of the modules it loads in a cache directory: later runs skip compiling
 * them (bench/startup measures it). Ours is under the user's cache directory (XDG), beside the other caches of
 * kube-harden. A no-op on Node 20, where the API does not exist; `NODE_DISABLE_COMPILE_CACHE=1` turns it off, and a
 * cache that cannot be written only costs the gain.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const enable = (nodeModule as { enableCompileCache?: (directory?: string) => unknown }).enableCompileCache;
  if (typeof enable !== 'function') return;
  try {
    const root =
      env.KUBE_HARDEN_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kube-harden');
    enable(join(root, 'compile-cache'));
  } catch {
    // no usable cache directory: compile as usual
  }
}

export async function runFromExecutable(executable: string | undefined): Promise<void> {
  // `--version` alone needs nothing but package.json: answer before the CLI (parser, commands, client) loads.
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    process.stdout.write(`kube-harden ${version()}\n`);
    return;
  }
  enableCompileCache();
  // Bug reports: stack traces through the bundle (bin/entry.js) name the TypeScript sources.
  if (isDebug()) process.setSourceMapsEnabled(true);
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
