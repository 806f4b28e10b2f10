/**
 * `kube-harden migrate -n NS`: one legacy namespace towards its Pod Security target. Prints the current and target
 * levels, the blocking workloads with their failing checks, and the proposed workload fixes (step psa-migrate)
 * with their server-side dry-run diffs and the API server's warnings; then applies them through the same engine as
 * `apply` (journal, undo) after confirmation — or writes a reviewable plan with `--out`.
 */
import { stepSettings } from '../../steps/index.js';
import { settingOf } from '../../steps/kit/settings.js';
import { TARGET } from '../../steps/psa-migrate.js';
import { connectionFlags, type FlagSpec, parseSettingFlags, settingFlags, stringList } from '../cli/args.js';
import { paint } from '../cli/output.js';
import { refuseOutInsideManifests } from '../engine/remediate.js';
import type { Plan, PlannedChange } from '../engine/types.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Assessment, NamespacePosture, PsaLabel } from '../policy/assess.js';
import { compareLevels } from '../policy/pss/index.js';
import { exitCodeOf, printReport } from './apply.js';
import { checkManifestsPath, confirm, headlessStore, sessionOptions, sourceFlags } from './common.js';
import { writePlanOutput } from './plan.js';
import type { Command } from './types.js';

const STEP_ID = 'psa-migrate';

const flags: readonly FlagSpec[] = [
  ...connectionFlags,
  {
    name: 'namespace',
    short: 'n',
    type: 'string',
    multiple: true,
    arg: 'NS',
    description: 'the namespace to migrate (exactly one; not repeatable)',
  },
  ...sourceFlags,
  // psa-migrate's settings (Step.settings): --target.
  ...settingFlags(stepSettings([STEP_ID])),
  {
    name: 'out',
    type: 'string',
    arg: 'DIR',
    description: 'write the plan (plan.json, PLAN.md, manifests/, patches/) to DIR instead of applying',
  },
  { name: 'yes', short: 'y', type: 'boolean', description: 'apply without asking (non-interactive use)' },
  {
    name: 'include-optional',
    type: 'boolean',
    description: 'also apply the optional changes (readOnlyRootFilesystem with an emptyDir at /tmp)',
  },
  {
    name: 'force-conflicts',
    type: 'boolean',
    description: 'take over fields owned by other field managers (explicit)',
  },
  { name: 'read-only', type: 'boolean', description: 'never write: print the migration only' },
];

function label(l: PsaLabel | null | undefined): string {
  if (!l) return 'not set';
  return `${l.level}:${l.version}${l.invalid ? ` (invalid: ${l.invalid})` : ''}`;
}

function indent(text: string, prefix: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

/** The migration report: levels, blockers with their failing checks, fixes with diffs and warnings. */
export function renderMigration(
  posture: NamespacePosture,
  assessment: Assessment,
  plan: Plan,
  target: 'privileged' | 'baseline' | 'restricted',
  color: boolean,
): string {
  const lines: string[] = [];
  const step = plan.steps.find((s) => s.id === STEP_ID);
  const psa = posture.psa;
  const bold = (t: string) => paint(color, 'bold', t);
  lines.push(`${bold(`namespace ${posture.name}`)} (${posture.tier} tier: ${posture.tierReason})`);
  lines.push(
    psa
      ? `  current: enforce ${psa.enforce ? label(psa.enforce) : 'not set (the cluster default: privileged unless configured otherwise)'}; warn ${label(psa.warn)}; audit ${label(psa.audit)}`
      : '  current: unknown (the namespace could not be read)',
  );
  lines.push(
    `  target:  ${target}${target === posture.targetLevel ? ` (the ${posture.tier} tier's level)` : ' (--target)'}`,
  );
  const warnLevel = psa?.warn && !psa.warn.invalid ? psa.warn.level : psa?.enforce?.level;
  if (
    plan.source.kind === 'cluster' &&
    target !== 'privileged' &&
    (!warnLevel || compareLevels(warnLevel, target) < 0)
  ) {
    lines.push(
      `  note: the namespace does not warn at ${target}, so the API server's dry-runs below cannot report what would still fail; label it first (phase 1): kube-harden plan --step psa-warn-audit -n ${posture.name}`,
    );
  }
  lines.push('');
  if (target === 'privileged') {
    lines.push('Nothing to migrate: the target level is privileged.');
    return `${lines.join('\n')}\n`;
  }
  const level = target;
  const blocking = assessment.workloads.filter((w) => w.namespace === posture.name && !w.pss[level].allowed);
  if (blocking.length === 0) {
    lines.push(`No workload blocks ${level}: every template and pod passes it.`);
  } else {
    lines.push(bold(`${blocking.length} workload(s) block ${level}:`));
    for (const w of blocking) {
      const excepted = assessment.findings.filter(
        (f) =>
          f.excepted &&
          f.target.kind === w.kind &&
          f.target.namespace === w.namespace &&
          f.target.name === w.name,
      );
      const ids = [...new Set(excepted.flatMap((f) => f.exceptedBy ?? []))];
      lines.push(
        `  ${w.kind} ${w.name}${w.pods ? ` (${w.pods} pod(s))` : w.replicas === 0 ? ' (scaled to zero)' : ''}${ids.length ? ` — excepted by ${ids.join(', ')}` : ''}`,
      );
      for (const v of w.pss[level].violations)
        lines.push(`    - ${v.reason}${v.detail ? ` (${v.detail})` : ''}`);
    }
  }
  const changes = plan.changes.filter((c) => c.step === STEP_ID);
  const fixes = changes.filter((c) => !c.optional);
  const optional = changes.filter((c) => c.optional);
  if (changes.length > 0) {
    lines.push(
      '',
      bold(`Fixes: ${fixes.length} change(s)${optional.length ? ` + ${optional.length} optional` : ''}`) +
        (plan.source.kind === 'cluster'
          ? ' (each previewed by server-side dry-run against the live workload):'
          : ' (offline: diffs of the manifests, no server dry-run):'),
    );
    changes.forEach((c, i) => {
      lines.push('', renderChange(c, i + 1, color));
    });
  }
  for (const noop of step?.noops ?? []) lines.push('', `  already in place: ${noop.id} (${noop.reason})`);
  // Blocking workloads without a fix (bare Pods, Jobs, nothing fixable): the step's finding says what to do.
  const key = (t: { kind: string; namespace?: string; name: string }) => `${t.kind}/${t.namespace}/${t.name}`;
  const fixedTargets = new Set(fixes.flatMap((c) => (c.target ? [key(c.target)] : [])));
  const manual = (step?.findings ?? []).filter(
    (f) => f.control === 'KH-PSA-MIGRATE-BLOCKER' && !fixedTargets.has(key(f.target)),
  );
  if (manual.length) {
    lines.push('', bold('Not fixable automatically:'));
    for (const f of manual) lines.push(`  - ${f.message}`);
  }
  const summary = (step?.findings ?? []).find((f) => f.control === 'KH-PSA-MIGRATE-SUMMARY');
  if (summary) lines.push('', summary.message);
  return `${lines.join('\n')}\n`;
}

function renderChange(c: PlannedChange, n: number, color: boolean): string {
  const t = c.target;
  const lines: string[] = [];
  const what = t ? `${t.kind} ${t.namespace}/${t.name}` : c.id;
  lines.push(
    `  [${n}] ${paint(color, 'bold', what)}${c.optional ? ' — optional (--include-optional)' : ''}${c.kind === 'manual' ? ' — by hand (never applied by kube-harden)' : ` (+${c.diff.added} −${c.diff.removed})`}`,
  );
  lines.push(indent(c.reason, '      '));
  for (const note of c.notes) lines.push(`      - ${note}`);
  if (c.kind === 'manual') {
    if (c.instructions) lines.push(indent(c.instructions, '      '));
    return lines.join('\n');
  }
  if (c.exportPatch) lines.push(`      exported as a patch for ${c.exportPatch}`);
  if (c.preview === 'ok') {
    lines.push(
      c.warnings.length
        ? `      API server warnings (dry-run):\n${c.warnings.map((w) => `        ! ${w}`).join('\n')}`
        : '      API server: no warnings (dry-run)',
    );
  } else if (c.preview === 'unavailable') {
    lines.push(`      ${paint(color, 'red', 'preview unavailable:')} ${c.previewError ?? 'unknown reason'}`);
    if (c.conflicts?.length) lines.push('      (apply with --force-conflicts to take these fields over)');
    for (const w of c.warnings) lines.push(`        ! ${w}`);
  }
  if (c.diff.text) lines.push(indent(c.diff.text, '      '));
  return lines.join('\n');
}

export const migrate: Command = {
  spec: {
    name: 'migrate',
    summary: 'Fix the workloads that keep one namespace from enforcing its Pod Security level',
    usage:
      '-n NS [--target baseline|restricted] [--run-as-user UID|keep-root|NS/NAME=…] [--out DIR] [--yes] [--include-optional] [flags]',
    description: `For one namespace: the enforced level today, the target level (the namespace tier's, or --target), the
workloads that block it with their failing checks, and a fix per blocking workload: the securityContext fields the
failing checks need (allowPrivilegeEscalation: false, capabilities.drop [ALL], seccomp RuntimeDefault,
runAsNonRoot: true, runAsUser only for images known to run as non-root), each previewed by server-side dry-run
against the live workload with the API server's warnings. What cannot be fixed automatically is named with the
next action. readOnlyRootFilesystem with an emptyDir at /tmp is offered as a separate, optional change.

Containers that run as root (runAsUser: 0, or an image known to run as root) or whose image user is unknown need a
choice: --run-as-user 65532 (or 10001, any UID: the image must support it) sets runAsUser; --run-as-user keep-root
leaves them as root and drafts exceptions for your register; NS/NAME=UID|keep-root decides for one workload. Without
a choice a root container is left as it is and named. The user of a container that binds a port below 1024, adds
capabilities or belongs to a system or infrastructure agent is never changed by the choice for all workloads. Every
workload left non-compliant is named in a table (PLAN.md with --out) with why. A bare Pod or a Job: offline its
manifest is fixed; in a cluster it is re-created by hand (the exact commands; disruptive).
Workloads managed by Helm, Argo CD or Flux are flagged; their fixes are exported as patches with --out.

Applying changes the pod templates, so the workloads' pods are replaced. In a terminal, migrate asks (type the
context name); with --yes it applies without asking. When stdin is not a terminal and --yes is not given, it prints
the migration and changes nothing. With --out DIR it writes the plan for review (apply it with
\`kube-harden apply --plan DIR\`) and changes nothing. Offline (--manifests) it prints the migration; with --out also
DIR/remediated/ (the manifests with the fixes). Every apply is journaled: \`kube-harden undo RUN_ID\` restores the
templates.`,
    flags,
    maxPositionals: 0,
    examples: [
      'kube-harden migrate -n shop',
      'kube-harden migrate -n shop --out plans/shop-migration',
      'kube-harden migrate -n legacy-batch --target baseline --yes',
      'kube-harden migrate -n shop --run-as-user 65532 --run-as-user shop/frontend=keep-root --out plans/shop',
      'kube-harden migrate --manifests examples/legacy-cluster -n shop --out /tmp/shop',
    ],
  },
  async run({ parsed, output, signal }) {
    const namespaces = stringList(parsed.flags, 'namespace');
    if (namespaces.length !== 1) {
      throw new UsageError(
        namespaces.length === 0
          ? 'migrate needs the namespace to migrate: -n NS'
          : `migrate works on one namespace at a time (got ${namespaces.join(', ')})`,
        'run it once per namespace, e.g. kube-harden migrate -n shop',
      );
    }
    const ns = namespaces[0] as string;
    const out = typeof parsed.flags.out === 'string' ? parsed.flags.out : undefined;
    if (out && parsed.flags.yes) {
      throw new UsageError(
        '--out writes a plan for review; --yes applies now: pick one',
        'apply the written plan with: kube-harden apply --plan DIR',
      );
    }
    const options = sessionOptions(parsed.flags);
    await checkManifestsPath(options.manifests);
    if (out && options.manifests) refuseOutInsideManifests(options.manifests, out);
    const settings = parseSettingFlags(parsed.flags, stepSettings([STEP_ID]));
    const target = settingOf(TARGET, { settings });
    const store = headlessStore({ ...options, settings }, output);
    try {
      await store.getState().connect(signal);
      await store.getState().inventory(signal);
      const assessment = store.getState().assessment as Assessment;
      const posture = assessment.namespaces.find((p) => p.name === ns);
      if (!posture || posture.synthesized === true) {
        throw new UsageError(
          `namespace ${ns} ${options.manifests ? `is not declared in ${options.manifests}` : 'does not exist'}`,
          options.manifests ? 'check the namespace name' : 'list namespaces with: kubectl get namespaces',
        );
      }
      const plan = await store.getState().planSteps([STEP_ID], signal);
      const level = (target ?? posture.targetLevel) as 'privileged' | 'baseline' | 'restricted';
      output.out.write(renderMigration(posture, assessment, plan, level, output.color));
      const incomplete = plan.unknown.length > 0 ? ExitCode.incomplete : ExitCode.ok;
      if (out) {
        await writePlanOutput(plan, out, options.manifests, output, options.scope);
        if (!options.manifests) {
          output.err.write(
            `review it, then apply with: kube-harden apply --plan ${out}${plan.changes.some((c) => c.optional) ? ' (add --include-optional for the optional changes)' : ''}\n`,
          );
        }
        return incomplete;
      }
      const state = store.getState();
      if (options.manifests || !state.canWrite) {
        if (options.manifests)
          output.err.write('offline: nothing applied (write the fixed manifests with --out DIR)\n');
        else output.err.write('--read-only: nothing applied\n');
        return incomplete;
      }
      const includeOptional = parsed.flags['include-optional'] === true;
      const force = parsed.flags['force-conflicts'] === true;
      const candidates = plan.changes.filter((c) => c.kind === 'apply' && (!c.optional || includeOptional));
      const skipped: string[] = [];
      const applicable = candidates.filter((c) => {
        if (c.preview !== 'unavailable') return true;
        if (c.conflicts?.length && force) return true;
        skipped.push(
          `${c.id}: ${c.conflicts?.length ? `${c.previewError} — pass --force-conflicts to take the fields over` : `no preview (${c.previewError ?? 'unknown'}), not applied`}`,
        );
        return false;
      });
      // An optional change includes its workload's fix: one write per object (a second write to an object a
      // controller has just updated would be refused as stale).
      const key = (c: PlannedChange) => `${c.target?.kind}/${c.target?.namespace}/${c.target?.name}`;
      const withOptional = new Set(applicable.filter((c) => c.optional).map(key));
      const toApply = applicable.filter((c) => c.optional || !withOptional.has(key(c)));
      for (const c of applicable) {
        if (!toApply.includes(c)) output.err.write(`${c.id}: included in its optional change\n`);
      }
      for (const s of skipped) output.err.write(`skipping ${s}\n`);
      if (toApply.length === 0) {
        output.err.write('nothing to apply.\n');
        return skipped.length ? ExitCode.refused : incomplete;
      }
      const source = state.source;
      const context = source?.kind === 'cluster' ? source.context : '';
      if (!parsed.flags.yes) {
        if (!process.stdin.isTTY) {
          output.err.write(
            `not a terminal: nothing applied. To apply these ${toApply.length} change(s) pass --yes; to review them first, write a plan with --out DIR.\n`,
          );
          return incomplete;
        }
        const ok = await confirm(
          `apply ${toApply.length} change(s) to namespace ${ns} in context "${context}"? Their pods are replaced.`,
          context,
        );
        if (!ok) {
          output.err.write('not confirmed; nothing was changed.\n');
          return ExitCode.ok;
        }
      }
      store.setState({ selected: toApply.map((c) => c.id), takeOver: force ? toApply.map((c) => c.id) : [] });
      const report = await store.getState().apply(signal);
      printReport(report, plan, output.err, output.color);
      for (const [step, v] of Object.entries(store.getState().verifications)) {
        output.err.write(
          `verify ${step}: ${v.ok ? 'ok' : 'PROBLEM'}\n${v.messages.map((m) => `  ${m}`).join('\n')}\n`,
        );
      }
      if (report.outcomes.some((o) => o.outcome === 'applied')) {
        output.err.write(
          `next: when the pods have rolled, enforce the level: kube-harden plan --step psa-enforce -n ${ns}\n`,
        );
      }
      const code = exitCodeOf(report);
      return code === ExitCode.ok && skipped.length ? ExitCode.refused : code;
    } finally {
      store.getState().close();
    }
  },
};
