/** `kube-harden apply --plan DIR`: apply a reviewed plan, refusing when the world changed since it was made. */
import { connectionFlags } from '../cli/args.js';
import { paint } from '../cli/output.js';
import type { ApplyReport } from '../engine/apply.js';
import { readPlanDir } from '../engine/plan-file.js';
import type { Plan } from '../engine/types.js';
import { ExitCode, StatusError, UsageError } from '../errors.js';
import { describeRef } from '../k8s/types.js';
import { createHardenStore } from '../store/store.js';
import { confirm, sessionOptions } from './common.js';
import { planSummary } from './plan.js';
import type { Command } from './types.js';

export const apply: Command = {
  spec: {
    name: 'apply',
    summary: 'Apply a saved plan after confirmation',
    usage: '--plan DIR [--yes] [flags]',
    description: `Applies the changes of a plan written by \`kube-harden plan --out DIR\`. It refuses when the context or
server differs from the plan's, or when any target's resourceVersion moved since the plan (naming each): plan again
then. Every write is server-side apply (field manager kube-harden, never forced unless --force-conflicts) with the
planned resourceVersion as a precondition, journaled first so that \`kube-harden undo\` can restore it.`,
    flags: [
      ...connectionFlags,
      { name: 'plan', type: 'string', arg: 'DIR', description: 'the plan directory (with plan.json)' },
      {
        name: 'yes',
        short: 'y',
        type: 'boolean',
        description: 'do not ask for confirmation (non-interactive use)',
      },
      {
        name: 'force-conflicts',
        type: 'boolean',
        description: 'take over fields owned by other field managers (explicit)',
      },
      {
        name: 'include-optional',
        type: 'boolean',
        description: 'also apply the changes the plan marks optional',
      },
    ],
    maxPositionals: 0,
    examples: [
      'kube-harden apply --plan plans/phase1',
      'kube-harden apply --plan plans/phase1 --yes --context prod',
    ],
  },
  async run({ parsed, output, signal }) {
    const dir = typeof parsed.flags.plan === 'string' ? parsed.flags.plan : undefined;
    if (!dir) throw new UsageError('apply needs --plan DIR', 'write one with: kube-harden plan --out DIR');
    const saved = readPlanDir(dir);
    if (saved.source.kind !== 'cluster') {
      throw new UsageError(
        `plan ${saved.id} was made offline from manifests (${saved.source.path}); it cannot be applied to a cluster`,
        'commit its remediated manifests, or plan against the cluster',
      );
    }
    const options = sessionOptions(parsed.flags);
    const store = createHardenStore({ options });
    try {
      await store.getState().connect(signal);
      const source = store.getState().source;
      if (source?.kind !== 'cluster') throw new UsageError('apply needs a cluster');
      const mismatches: string[] = [];
      if (source.context !== saved.source.context)
        mismatches.push(`context is "${source.context}", the plan was made for "${saved.source.context}"`);
      if (source.server !== saved.source.server)
        mismatches.push(`server is ${source.server}, the plan was made for ${saved.source.server}`);
      if (mismatches.length) {
        throw new StatusError(
          `refusing to apply plan ${saved.id}: ${mismatches.join('; ')}`,
          ExitCode.refused,
          'select the right --context, or plan again',
        );
      }
      // Terraform's rule: a saved plan is the contract; if any target moved, refuse and name each.
      const moved = await store.getState().drift(saved, signal);
      if (moved.length) {
        throw new StatusError(
          `refusing to apply plan ${saved.id}: ${moved.length} object(s) changed since it was made:\n  ${moved.join('\n  ')}`,
          ExitCode.refused,
          'plan again to review the current state',
        );
      }
      output.err.write(planSummary(saved));
      // Optional changes (e.g. readOnlyRootFilesystem) are applied only with --include-optional.
      const toApply = saved.changes.filter(
        (c) => c.kind !== 'manual' && (!c.optional || parsed.flags['include-optional'] === true),
      );
      if (toApply.length === 0) {
        output.err.write('nothing to apply.\n');
        return ExitCode.ok;
      }
      if (!parsed.flags.yes) {
        const disruptive = toApply.some((c) => c.risk === 'disruptive');
        const question = `apply ${toApply.length} change(s) of plan ${saved.id} to context "${source.context}" (${source.server})?${disruptive ? ' Some are disruptive.' : ''}`;
        const ok = await confirm(question, disruptive ? source.context : undefined);
        if (!ok) {
          output.err.write('not confirmed; nothing was changed.\n');
          return ExitCode.ok;
        }
      }
      store.setState({
        plan: saved,
        selected: toApply.map((c) => c.id),
        takeOver: parsed.flags['force-conflicts'] ? toApply.map((c) => c.id) : [],
      });
      const report = await store.getState().apply(signal);
      printReport(report, saved, output.err, output.color);
      for (const [step, v] of Object.entries(store.getState().verifications)) {
        output.err.write(
          `verify ${step}: ${v.ok ? 'ok' : 'PROBLEM'}\n${v.messages.map((m) => `  ${m}`).join('\n')}\n`,
        );
        if (!v.ok)
          output.err.write(
            `  undo with: kube-harden undo ${report.runId}${source.context ? ` --context ${source.context}` : ''}\n`,
          );
      }
      return exitCodeOf(report);
    } finally {
      store.getState().close();
    }
  },
};

export function printReport(
  report: ApplyReport,
  plan: Plan,
  err: NodeJS.WritableStream,
  color: boolean,
): void {
  for (const o of report.outcomes) {
    const change = plan.changes.find((c) => c.id === o.id);
    const target = change?.target ? describeRef(change.target) : o.id;
    const mark =
      o.outcome === 'applied'
        ? paint(color, 'green', 'applied ')
        : o.outcome === 'not-attempted'
          ? paint(color, 'dim', 'skipped ')
          : paint(color, 'red', `${o.outcome.padEnd(8)}`);
    err.write(`${mark} ${target}${o.message ? `: ${o.message}` : ''}\n`);
  }
  const applied = report.outcomes.filter((o) => o.outcome === 'applied').length;
  err.write(
    `run ${report.runId}: ${applied} of ${report.outcomes.length} change(s) applied (${report.state}); journal ${report.journalPath}\n`,
  );
  if (applied > 0) err.write(`undo with: kube-harden undo ${report.runId}\n`);
}

export function exitCodeOf(report: ApplyReport): number {
  if (report.state === 'interrupted') return ExitCode.interrupted;
  if (report.state === 'failed') return ExitCode.error;
  if (report.outcomes.some((o) => ['stale', 'conflict', 'forbidden'].includes(o.outcome)))
    return ExitCode.refused;
  return ExitCode.ok;
}
