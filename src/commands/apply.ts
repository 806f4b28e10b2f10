/** `kube-harden apply --plan DIR`: apply a reviewed plan, refusing when the world changed since it was made. */
import { STEPS } from '../../steps/index.js';
import { connectionFlags } from '../cli/args.js';
import { paint } from '../cli/output.js';
import type { ApplyReport } from '../engine/apply.js';
import { parseDigest } from '../engine/digest.js';
import { accessPreflight, checkTargets, recheckEnforce, verifyApplied } from '../engine/gate.js';
import { recordVerifications, verifyResult } from '../engine/journal.js';
import { readLive } from '../engine/live-reads.js';
import { readPlanDir, verifyPlanSeal } from '../engine/plan-file.js';
import type { Plan, PlannedChange, Step } from '../engine/types.js';
import { DEFAULT_PROBE_IMAGE, podProbe } from '../engine/verify.js';
import { ExitCode, StatusError, UsageError } from '../errors.js';
import { describeRef } from '../k8s/types.js';
import { openSource } from '../store/session.js';
import { createHardenStore } from '../store/store.js';
import { confirm, sessionOptions } from './common.js';
import { planSummary } from './plan.js';
import type { Command } from './types.js';

/**
 * Steps known to the target check besides the registry: empty in the CLI; a test harness adds its test-only steps
 * in-process (test/support/cli-with-test-steps.ts). Nothing read from a plan or the environment can add one.
 */
export const extraSteps: Array<Pick<Step, 'id' | 'targets'>> = [];

/** Changes listed in full before the question; the rest are counted (every one is in PLAN.md). */
const LIST_LIMIT = 30;

export const apply: Command = {
  spec: {
    name: 'apply',
    summary: 'Apply a saved plan after confirmation',
    usage: '--plan DIR [--expect-digest SHA256] [--yes] [flags]',
    description: `Applies the changes of a plan written by \`kube-harden plan --out DIR\`, exactly as reviewed. Before writing
anything it refuses (exit 6) a plan whose digest no longer matches its files (plan.json, PLAN.md, manifests/,
optional/, patches/, artifacts/) or differs from --expect-digest, a plan made for another context or server, and a
change its step cannot produce; it drops (exit 5) the changes you may not make, naming the missing permission; it
refuses (exit 8) when any target's resourceVersion moved since the plan (naming each: plan again), and an enforce
label that the namespace's pods or templates would violate now. Every write is server-side apply (field manager
kube-harden, never forced unless --force-conflicts) with the planned resourceVersion as a precondition, journaled
first so that \`kube-harden undo\` can restore it; then each step verifies its changes (e.g. FailedCreate after
enforce). Manual changes are listed as to do by hand, never applied.`,
    flags: [
      ...connectionFlags,
      { name: 'plan', type: 'string', arg: 'DIR', description: 'the plan directory (with plan.json)' },
      {
        name: 'expect-digest',
        type: 'string',
        arg: 'SHA256',
        description: "refuse unless the plan's digest is this one (the digest that was reviewed)",
      },
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
      {
        name: 'probe',
        type: 'boolean',
        description:
          'after applying phase 3, run a short-lived restricted probe Pod in each changed namespace that resolves a name over UDP and TCP (always deleted)',
      },
      {
        name: 'probe-image',
        type: 'string',
        arg: 'IMAGE',
        description: "the probe Pod's image (needs sh and BIND's dig)",
        default: DEFAULT_PROBE_IMAGE,
      },
      {
        name: 'probe-timeout',
        type: 'string',
        arg: 'SECONDS',
        description: 'how long a probe Pod may take to run (1-600)',
        default: '60',
      },
      {
        name: 'allow-other-cluster',
        type: 'boolean',
        description:
          'apply a plan made for another context or server to the one --context names (resourceVersions must still match)',
      },
    ],
    maxPositionals: 0,
    examples: [
      'kube-harden apply --plan plans/phase1',
      'kube-harden apply --plan plans/phase1 --yes --context prod --expect-digest 3f1c…',
    ],
  },
  async run({ parsed, output, signal }) {
    const dir = typeof parsed.flags.plan === 'string' ? parsed.flags.plan : undefined;
    if (!dir) throw new UsageError('apply needs --plan DIR', 'write one with: kube-harden plan --out DIR');
    const rawExpect = parsed.flags['expect-digest'];
    const expect = typeof rawExpect === 'string' ? parseDigest(rawExpect) : undefined;
    if (typeof rawExpect === 'string' && !expect) {
      throw new UsageError(
        `invalid --expect-digest "${rawExpect}"`,
        'pass the 64 hex digits printed by `kube-harden plan --out DIR` (with or without "sha256:")',
      );
    }
    const probeOptions = probeFlags(parsed.flags);
    const saved = readPlanDir(dir);
    if (saved.source.kind !== 'cluster') {
      throw new UsageError(
        `plan ${saved.id} was made offline from manifests (${saved.source.path}); it cannot be applied to a cluster`,
        'commit its remediated manifests, or plan against the cluster',
      );
    }
    // The seal first: nothing of an altered plan is believed, not even its context.
    const digest = verifyPlanSeal(dir, expect);
    output.err.write(`plan ${saved.id}: digest ${digest} verified${expect ? ' (the expected one)' : ''}\n`);
    const options = sessionOptions(parsed.flags);
    const opened = await openSource(options, signal);
    const store = createHardenStore({ options, open: async () => opened });
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
        const explicit =
          typeof parsed.flags.context === 'string' && parsed.flags['allow-other-cluster'] === true;
        if (!explicit) {
          throw new StatusError(
            `refusing to apply plan ${saved.id}: ${mismatches.join('; ')}`,
            ExitCode.input,
            "select the plan's context with --context, or plan again; to apply it here anyway, name this context with --context and pass --allow-other-cluster",
          );
        }
        output.err.write(`warning: ${mismatches.join('; ')} (--allow-other-cluster)\n`);
      }
      const reader = opened.reader;
      // A plan can only contain what its steps can produce.
      // Each target read once (a LIST for many of one kind), for the target rules and the drift check.
      const live = await readLive(
        reader,
        saved.changes.flatMap((c) => (c.target ? [c.target] : [])),
        signal,
      );
      const outside = await checkTargets(reader, saved, [...STEPS, ...extraSteps], signal, live);
      if (outside.length) {
        throw new StatusError(
          `refusing plan ${saved.id}: ${outside.length} change(s) are not what their step can produce:\n  ${outside
            .map((r) => `${describeChange(r.change)}: ${r.reason}`)
            .join('\n  ')}`,
          ExitCode.input,
          'apply only plans written by `kube-harden plan --out DIR`, unedited',
        );
      }
      output.err.write(planSummary(saved));
      const manual = saved.changes.filter((c) => c.kind === 'manual');
      // Optional changes (e.g. readOnlyRootFilesystem) are applied only with --include-optional.
      let toApply = saved.changes.filter(
        (c) => c.kind !== 'manual' && (!c.optional || parsed.flags['include-optional'] === true),
      );
      // The permission preflight for the writes: what would be forbidden is dropped now, not sent one by one.
      const denied = await accessPreflight(reader, toApply, signal);
      for (const d of denied) {
        output.err.write(
          `${paint(output.color, 'red', 'forbidden')} ${describeChange(d.change)}: you may not ${d.missing.join(', ')}\n`,
        );
      }
      const deniedIds = new Set(denied.map((d) => d.change.id));
      toApply = toApply.filter((c) => !deniedIds.has(c.id));
      // Terraform's rule: a saved plan is the contract; if any target moved, refuse and name each.
      const moved = await store.getState().drift({ ...saved, changes: toApply }, signal, live);
      if (moved.length) {
        throw new StatusError(
          `refusing to apply plan ${saved.id}: ${moved.length} object(s) changed since it was made:\n  ${moved.join('\n  ')}`,
          ExitCode.refused,
          'plan again to review the current state',
        );
      }
      // An enforce label is only as safe as the namespace is now: a violating workload added since the plan.
      const unsafe = await recheckEnforce(reader, toApply, signal);
      for (const r of unsafe) {
        output.err.write(
          `${paint(output.color, 'red', 'refused ')} ${describeChange(r.change)}: ${r.reason}\n`,
        );
      }
      const unsafeIds = new Set(unsafe.map((r) => r.change.id));
      toApply = toApply.filter((c) => !unsafeIds.has(c.id));
      for (const m of manual) {
        output.err.write(
          `to do by hand: ${m.artifact?.file ? `${dir}/${m.artifact.file}` : (m.artifact?.path ?? m.id)} (${m.step}) — see PLAN.md\n`,
        );
      }
      const early = denied.length ? ExitCode.auth : unsafe.length ? ExitCode.refused : ExitCode.ok;
      if (toApply.length === 0) {
        // Nothing is sent, so no run is recorded (an empty run would become undo's default).
        output.err.write('nothing to apply.\n');
        if (denied.length)
          output.err.write('ask for the permissions above, or apply with a context that has them\n');
        return early;
      }
      const target = `context "${source.context}" (${source.server})`;
      output.err.write(
        `${parsed.flags.yes ? 'applying' : 'to apply'} on ${target}:\n${describeList(toApply)}`,
      );
      if (!parsed.flags.yes) {
        // Disruptive changes and deletes need the context name typed, never a bare "y".
        const disruptive = toApply.some((c) => c.risk === 'disruptive' || c.operation === 'delete');
        const question = `apply these ${toApply.length} change(s) of plan ${saved.id} to ${target}?${disruptive ? ' Some are disruptive or deletes.' : ''}`;
        const ok = await confirm(question, disruptive ? source.context : undefined);
        if (!ok) {
          output.err.write('not confirmed; nothing was changed.\n');
          return early;
        }
      }
      store.setState({
        plan: saved,
        selected: toApply.map((c) => c.id),
        takeOver: parsed.flags['force-conflicts'] ? toApply.map((c) => c.id) : [],
      });
      const report = await store.getState().apply(signal);
      printReport(report, saved, output.err, output.color);
      // Each step checks what it changed (e.g. FailedCreate after enforce), as after the wizard; not after Ctrl-C.
      const verifications = signal.aborted
        ? {}
        : await verifyApplied(
            reader,
            saved,
            report,
            STEPS,
            {
              namespaces: [],
              exclude: [],
              settings: {},
              now: new Date(),
            },
            signal,
            probeOptions && opened.writer ? podProbe(opened.writer, probeOptions) : undefined,
          );
      const notRecorded = recordVerifications(report.journalPath, verifications);
      if (notRecorded) output.err.write(`warning: ${notRecorded}\n`);
      let problems = false;
      let unknown = false;
      for (const [step, v] of Object.entries(verifications)) {
        const result = verifyResult(v);
        output.err.write(
          `verify ${step}: ${result === 'ok' ? result : result.toUpperCase()}\n${v.messages.map((m) => `  ${m}`).join('\n')}\n`,
        );
        if (!v.ok) {
          if (v.unknown) unknown = true;
          else problems = true;
          output.err.write(
            `  undo with: kube-harden undo ${report.runId}${source.context ? ` --context ${source.context}` : ''}\n`,
          );
        }
      }
      const code = exitCodeOf(report);
      if (code !== ExitCode.ok) return code;
      if (problems) return ExitCode.error;
      if (unknown) return ExitCode.incomplete;
      return early;
    } finally {
      store.getState().close();
    }
  },
};

/** `--probe`, `--probe-image`, `--probe-timeout` → the probe's options (undefined without --probe). */
function probeFlags(flags: Record<string, unknown>): { image: string; timeoutMs: number } | undefined {
  const image = typeof flags['probe-image'] === 'string' ? flags['probe-image'] : undefined;
  const timeout = typeof flags['probe-timeout'] === 'string' ? flags['probe-timeout'] : undefined;
  if (!flags.probe) {
    if (image !== undefined || timeout !== undefined)
      throw new UsageError(
        `--${image !== undefined ? 'probe-image' : 'probe-timeout'} needs --probe`,
        'add --probe to run the DNS probe after applying',
      );
    return undefined;
  }
  const seconds = Number(timeout ?? '60');
  if (!/^\d{1,3}$/.test(timeout ?? '60') || seconds < 1 || seconds > 600)
    throw new UsageError(
      `invalid value "${timeout}" for --probe-timeout`,
      'use a number of seconds from 1 to 600',
    );
  if (image !== undefined && (image.trim() === '' || /\s/.test(image)))
    throw new UsageError(
      `invalid value "${image}" for --probe-image`,
      'name an image, e.g. registry.example.com/dnsutils:1.0',
    );
  return { image: image ?? DEFAULT_PROBE_IMAGE, timeoutMs: seconds * 1000 };
}

function describeChange(c: PlannedChange): string {
  return c.target ? `${c.operation} ${describeRef(c.target)}` : `${c.kind} ${c.id}`;
}

/** One line per change (operation, target, risk), the first LIST_LIMIT of them; the rest counted by step. */
export function describeList(changes: readonly PlannedChange[]): string {
  const lines = changes
    .slice(0, LIST_LIMIT)
    .map(
      (c) =>
        `  ${c.operation.padEnd(7)} ${c.target ? describeRef(c.target) : c.id}  (risk ${c.risk}${c.optional ? ', optional' : ''})`,
    );
  const rest = changes.slice(LIST_LIMIT);
  if (rest.length) {
    const bySteps = new Map<string, number>();
    for (const c of rest) bySteps.set(c.step, (bySteps.get(c.step) ?? 0) + 1);
    lines.push(
      `  … and ${rest.length} more: ${[...bySteps].map(([s, n]) => `${n} of ${s}`).join(', ')} (every one is in PLAN.md)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function printReport(
  report: ApplyReport,
  plan: Plan,
  err: NodeJS.WritableStream,
  color: boolean,
): void {
  for (const o of report.outcomes) {
    const change = plan.changes.find((c) => c.id === o.id);
    const target = change?.target ? describeRef(change.target) : o.id;
    // A delete is reported as one, never as "applied".
    const done = change?.operation === 'delete' ? 'deleted ' : 'applied ';
    const mark =
      o.outcome === 'applied'
        ? paint(color, 'green', done)
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
  if (report.outcomes.some((o) => o.outcome === 'forbidden')) return ExitCode.auth;
  if (report.outcomes.some((o) => ['stale', 'conflict', 'rejected'].includes(o.outcome)))
    return ExitCode.refused;
  return ExitCode.ok;
}
