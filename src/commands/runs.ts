/** `kube-harden runs` and `kube-harden undo [RUN_ID]`. */
import { connectionFlags, outputFlag } from '../cli/args.js';
import { paint } from '../cli/output.js';
import { isClusterError } from '../cluster/errors.js';
import type { LiveCluster } from '../cluster/live.js';
import {
  listRuns,
  type RunSummary,
  readClusterIdentity,
  rememberCluster,
  stateRoot,
} from '../engine/journal.js';
import { ExitCode } from '../errors.js';
import { describeRef } from '../k8s/types.js';
import { connectLive } from '../store/session.js';
import { createHardenStore } from '../store/store.js';
import { confirm, sessionOptions } from './common.js';
import type { Command } from './types.js';

export const runs: Command = {
  spec: {
    name: 'runs',
    summary: 'List the runs recorded for this cluster and context',
    usage: '[flags]',
    description: `Journals live under $XDG_STATE_HOME/kube-harden/ (default ~/.local/state/kube-harden/), one per run, kept by
the cluster's identity (the UID of its kube-system Namespace), so runs made through another server URL or a renamed
context are listed too. State: complete, interrupted, failed, undone or partially undone.`,
    flags: [...connectionFlags, outputFlag(['text', 'json'])],
    maxPositionals: 0,
  },
  async run({ parsed, output, signal }) {
    const cluster = connectLive(sessionOptions(parsed.flags));
    try {
      // One read (the kube-system Namespace) tells the cluster's identity; offline, the last one recorded for
      // this server and context is used.
      const clusterId = await learnClusterIdentity(cluster, signal, (m) => output.err.write(`${m}\n`));
      const list = listRuns(cluster.source, process.env, clusterId);
      if (parsed.flags.output === 'json') {
        output.out.write(`${JSON.stringify(list, null, 2)}\n`);
        return ExitCode.ok;
      }
      if (list.length === 0) {
        output.out.write(
          `no runs recorded for context "${(cluster.source as { context: string }).context}" (journals: ${stateRoot()})\n`,
        );
        return ExitCode.ok;
      }
      const rows = list.map((r) => [
        r.runId,
        r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        r.context,
        r.server,
        r.steps.join(','),
        `${r.applied}/${r.changes}${r.uncertain ? ` (${r.uncertain} unknown)` : ''}`,
        verifiedCell(r.verified),
        r.state,
      ]);
      const head = ['RUN', 'STARTED', 'CONTEXT', 'SERVER', 'STEPS', 'APPLIED', 'VERIFIED', 'STATE'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const fmt = (r: string[]) =>
        r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
      output.out.write(`${fmt(head)}\n${rows.map(fmt).join('\n')}\n`);
      return ExitCode.ok;
    } finally {
      cluster.close();
    }
  },
};

/**
 * Read the cluster's identity and record this server and context as one of its names (migrating journals of the
 * earlier per-context layout). Unreachable or not allowed: undefined, and the identity recorded earlier is used.
 */
async function learnClusterIdentity(
  cluster: LiveCluster,
  signal: AbortSignal | undefined,
  warn: (message: string) => void,
): Promise<string | undefined> {
  try {
    const id = await readClusterIdentity(cluster, signal);
    if (id) rememberCluster(cluster.source, id);
    return id;
  } catch (error) {
    if (!isClusterError(error)) throw error;
    warn(
      `warning: cannot read the cluster's identity (${error.message}); listing runs recorded for this context`,
    );
    return undefined;
  }
}

export const undo: Command = {
  spec: {
    name: 'undo',
    summary: 'Undo a run: restore every field it changed, delete what it created',
    usage: '[RUN_ID] [--yes] [--force] [flags]',
    description: `Restores, from the run's journal, every field the run changed to its before-image, deletes objects the run
created and re-creates objects it deleted. Objects changed since by someone else are reported as conflicts and left
alone unless --force. The undo is previewed (server-side dry-run) and confirmed like any other change. Default: the
last run on this context.`,
    flags: [
      ...connectionFlags,
      { name: 'yes', short: 'y', type: 'boolean', description: 'do not ask for confirmation' },
      {
        name: 'force',
        type: 'boolean',
        description: 'restore fields even where someone changed them since the run',
      },
    ],
    positionals: '[RUN_ID]',
    maxPositionals: 1,
    examples: ['kube-harden undo', 'kube-harden undo 20261125T081500Z-3fa2c1 --context prod'],
  },
  async run({ parsed, output, signal }) {
    const options = sessionOptions(parsed.flags);
    const store = createHardenStore({ options });
    const c = output.color;
    try {
      await store.getState().connect(signal);
      // Runs are kept by cluster identity: learn it, so runs made through another URL or context are found.
      const cluster = connectLive(options);
      try {
        await learnClusterIdentity(cluster, signal, (m) => output.err.write(`${m}\n`));
      } finally {
        cluster.close();
      }
      const plan = await store
        .getState()
        .planUndo(parsed.positionals[0], { force: parsed.flags.force === true, signal });
      const actionable = plan.items.filter((i) => i.action !== 'nothing' && i.action !== 'conflict');
      for (const item of plan.items) {
        const label =
          item.action === 'conflict'
            ? paint(c, 'red', 'conflict')
            : item.action === 'nothing'
              ? paint(c, 'dim', 'nothing ')
              : paint(c, 'yellow', item.action.padEnd(8));
        output.err.write(
          `${label} ${describeRef(item.target)}: ${item.message}${item.previewError ? ` (preview unavailable: ${item.previewError})` : ''}\n`,
        );
        if (item.diff.text) output.err.write(`${item.diff.text.trimEnd()}\n`);
        for (const w of item.warnings) output.err.write(`  warning: ${w}\n`);
      }
      if (actionable.length === 0) {
        const conflicts = plan.items.filter((i) => i.action === 'conflict').length;
        output.err.write(
          `run ${plan.runId}: nothing to undo${conflicts ? `; ${conflicts} conflict(s) left alone (use --force)` : ''}.\n`,
        );
        return conflicts ? ExitCode.refused : ExitCode.ok;
      }
      const source = store.getState().source;
      const context = source?.kind === 'cluster' ? source.context : '';
      if (!parsed.flags.yes) {
        const ok = await confirm(
          `undo ${actionable.length} change(s) of run ${plan.runId} on context "${context}"?`,
        );
        if (!ok) {
          output.err.write('not confirmed; nothing was changed.\n');
          return ExitCode.ok;
        }
      }
      const outcomes = await store.getState().applyUndo(signal);
      for (const o of outcomes) {
        if (o.outcome === 'unchanged') continue;
        output.err.write(
          `${o.outcome.padEnd(9)} ${describeRef(o.item.target)}${o.message ? `: ${o.message}` : ''}\n`,
        );
      }
      const bad = outcomes.filter((o) => ['conflict', 'failed', 'forbidden', 'rejected'].includes(o.outcome));
      output.err.write(
        `run ${plan.runId}: ${bad.length === 0 ? 'undone' : `partially undone (${bad.length} item(s) left)`}\n`,
      );
      return bad.some((o) => o.outcome === 'failed')
        ? ExitCode.error
        : bad.length
          ? ExitCode.refused
          : ExitCode.ok;
    } finally {
      store.getState().close();
    }
  },
};

/** `ok`, `PROBLEM: psa-migrate`, `UNKNOWN: network-default-deny`, or `-` when no step was verified. */
function verifiedCell(verified: RunSummary['verified']): string {
  const entries = Object.entries(verified);
  if (entries.length === 0) return '-';
  const not = (result: string) =>
    entries
      .filter(([, r]) => r === result)
      .map(([step]) => step)
      .sort();
  const problems = not('problem');
  const unknown = not('unknown');
  const parts = [
    ...(problems.length ? [`PROBLEM: ${problems.join(',')}`] : []),
    ...(unknown.length ? [`UNKNOWN: ${unknown.join(',')}`] : []),
  ];
  return parts.length ? parts.join(' ') : 'ok';
}
