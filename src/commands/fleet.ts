/**
 * Several clusters in one run: `report` and `plan` with `--context` given more than once, or `--all-contexts`.
 * Each cluster runs as its own session (its own store and client), at most `--parallel` at a time; one that cannot
 * be read is recorded with its reason and exit code and never stops the others.
 */
import { Writable } from 'node:stream';
import type { FlagSpec, FlagValues } from '../cli/args.js';
import { parsePositiveNumber, stringList } from '../cli/args.js';
import type { Output } from '../cli/output.js';
import { kubeconfigContextNames } from '../cluster/kubeconfig.js';
import { mapBounded } from '../concurrency.js';
import { AbortError, ExitCode, KubeHardenError, UsageError } from '../errors.js';
import type { FleetEntry } from '../fleet/posture.js';

/** `--context` repeatable (a fleet when given twice), `--all-contexts`, `--parallel`. */
export function withFleetFlags(flags: readonly FlagSpec[], what: string): FlagSpec[] {
  return [
    ...flags.map((f) =>
      f.name === 'context'
        ? {
            ...f,
            multiple: true,
            description: `the kubeconfig context to use (default: current-context); repeatable: ${what} per context`,
          }
        : f,
    ),
    {
      name: 'all-contexts',
      type: 'boolean',
      description: `every context of the kubeconfig: ${what} per context`,
    },
    {
      name: 'parallel',
      type: 'string',
      arg: 'N',
      description: 'with several contexts: clusters read at once',
      default: '4',
    },
  ];
}

/**
 * The contexts of a fleet run, in the order given (`--all-contexts`: the kubeconfig's, sorted); undefined for a
 * single-cluster run, whose flags then carry `context` as a plain string again.
 */
export function fleetContexts(flags: FlagValues): string[] | undefined {
  const given = [...new Set(stringList(flags, 'context'))];
  if (flags['all-contexts']) {
    if (given.length)
      throw new UsageError('--context and --all-contexts cannot be used together', 'pick one');
    if (typeof flags.manifests === 'string')
      throw new UsageError(
        '--all-contexts reads clusters; it cannot be combined with --manifests',
        'drop one',
      );
    const kubeconfig = typeof flags.kubeconfig === 'string' ? flags.kubeconfig : undefined;
    const all = kubeconfigContextNames(kubeconfig ? { kubeconfig } : {});
    if (all.length === 0)
      throw new UsageError(
        '--all-contexts: the kubeconfig defines no contexts',
        'add a context or pass --kubeconfig',
      );
    return all;
  }
  if (given.length > 1) {
    if (typeof flags.manifests === 'string')
      throw new UsageError(
        '--manifests works offline; it cannot be combined with --context',
        'drop one of them',
      );
    return given;
  }
  if (given.length === 1) flags.context = given[0];
  else delete flags.context;
  return undefined;
}

export function parallelOf(flags: FlagValues): number {
  return typeof flags.parallel === 'string'
    ? Math.floor(parsePositiveNumber(flags.parallel, 'parallel')) || 1
    : 4;
}

/** Lines on stderr carry the cluster's context, so interleaved progress stays readable. */
function prefixedOutput(output: Output, context: string): Output {
  const prefix = `[${context}] `;
  let partial = '';
  const err = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = partial + String(chunk);
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) output.err.write(`${prefix}${l}\n`);
      done();
    },
    final(done) {
      if (partial) output.err.write(`${prefix}${partial}\n`);
      done();
    },
  });
  return {
    out: output.out,
    err,
    color: output.color,
    progress: (line) => output.progress(`${prefix}${line}`),
    endProgress: () => output.endProgress(),
  };
}

/**
 * Run `one` per context (bounded), turning an expected error into a failed entry with its exit code and hint.
 * Ctrl-C stops the whole run; an unexpected error (a bug) is recorded for its cluster as exit 1.
 */
export async function runFleet<T>(
  contexts: readonly string[],
  parallel: number,
  output: Output,
  signal: AbortSignal,
  one: (context: string, output: Output) => Promise<FleetEntry<T>>,
): Promise<FleetEntry<T>[]> {
  output.err.write(
    `fleet: ${contexts.length} context(s), ${Math.min(parallel, contexts.length)} at a time\n`,
  );
  return mapBounded(contexts, parallel, async (context) => {
    signal.throwIfAborted();
    const scoped = prefixedOutput(output, context);
    try {
      return await one(context, scoped);
    } catch (error) {
      if (signal.aborted || error instanceof AbortError) throw error;
      const e = error instanceof Error ? error : new Error(String(error));
      const expected = e instanceof KubeHardenError;
      scoped.err.write(`error: ${e.message}\n`);
      return {
        context,
        status: 'failed',
        exitCode: expected ? e.exitCode : ExitCode.error,
        reason: expected ? e.message : `unexpected error: ${e.message}`,
        ...(expected && e.hint ? { hint: e.hint } : {}),
      } satisfies FleetEntry<T>;
    } finally {
      scoped.err.end();
    }
  });
}

/** A fleet's exit code: 0 when every cluster was read completely, else 7 (each cluster's own code is in the report). */
export function fleetExitCode(entries: readonly FleetEntry[]): number {
  return entries.every((e) => e.status === 'ok') ? ExitCode.ok : ExitCode.incomplete;
}
