/**
 * What the executables run (bin/kube-harden.js, bin/kubectl-harden.js, the single-executable build): main() with
 * the user's arguments, then the exit code. A closed stdout (`kube-harden report | head`) ends the program quietly
 * instead of with an EPIPE stack.
 */
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
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

/** V8's young generation (both semi-spaces) stops growing once it has reached this size. */
export const YOUNG_GENERATION_CAP = 8 * 1024 * 1024;
/** Past this much heap, the young generation may grow again (see capYoungGeneration). */
const UNCAP_AT = 128 * 1024 * 1024;

const youngGeneration = () =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/**
 * Stop V8's young generation from growing past YOUNG_GENERATION_CAP while the heap is small. By default V8 grows
 * it while many young objects survive, as they do while an inventory is built and assessed (up to 32 MB on Node
 * 20, 128 MB on Node 24), and that memory stays committed to the end of the run: a 10,000-pod report peaked at
 * ~165 MB RSS on Node 20 and ~228 MB on Node 24, and ~130 and ~168 MB with the cap (bench/inventory), in the same
 * time. Past UNCAP_AT of heap it may grow again: at 160,000 pods a young generation held small for the whole run
 * promoted more short-lived objects, for ~1 s more CPU and no less memory. The size limit itself
 * (`--max-semi-space-size`) can only be given when the process starts (a launcher that passes it breaks where
 * `env` has no `-S`, as on BusyBox); the growth factor is read at each growth, so a GC observer sets it to 1 when
 * the cap is reached, and back to V8's 2 past UNCAP_AT. (Set to 1 at start, it kept the young generation at 1 MB
 * on Node 20: ~0.15 s more GC at 10,000 pods.) Left alone when the user sizes the young generation (NODE_OPTIONS,
 * command line).
 */
export function capYoungGeneration(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): boolean {
  if (/semi[-_]space/.test(`${env.NODE_OPTIONS ?? ''} ${execArgv.join(' ')}`)) return false;
  // A flag every V8 of Node 20-24 has (V8 prints an unknown one to stdout, which would corrupt a JSON report).
  const growthFactor = (factor: number) => v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  let capped = false;
  const observer = new PerformanceObserver(() => {
    if (!capped) {
      if (youngGeneration() < YOUNG_GENERATION_CAP) return;
      growthFactor(1);
      capped = true;
    } else if (v8.getHeapStatistics().used_heap_size > UNCAP_AT) {
      growthFactor(2);
      observer.disconnect();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return true;
}

export async function runFromExecutable(executable: string | undefined): Promise<void> {
  // `--version` alone needs nothing but package.json: answer before the CLI (parser, commands, client) loads.
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    process.stdout.write(`kube-harden ${version()}\n`);
    return;
  }
  enableCompileCache();
  capYoungGeneration();
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
