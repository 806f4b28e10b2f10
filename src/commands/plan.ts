/** `kube-harden plan`: detect → propose → preview, without writing; a reviewable plan for GitOps. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STEPS, stepSettings } from '../../steps/index.js';
import type { FlagValues } from '../cli/args.js';
import { parseSettingFlags, settingFlags, stringList } from '../cli/args.js';
import type { Output } from '../cli/output.js';
import { ManifestSource } from '../cluster/manifests.js';
import { planJson, renderPlanMarkdown, type WrittenPlan, writePlanDir } from '../engine/plan-file.js';
import { refuseOutInsideManifests, writeRemediated } from '../engine/remediate.js';
import type { Plan } from '../engine/types.js';
import { ExitCode, UsageError } from '../errors.js';
import { contextDirNames, type FleetEntry } from '../fleet/posture.js';
import type { Scope } from '../inventory/scope.js';
import { table as mdTable } from '../report/markdown.js';
import { manifestNamespace } from '../store/session.js';
import { checkManifestsPath, headlessStore, readFlags, sessionOptions } from './common.js';
import { fleetContexts, fleetExitCode, parallelOf, runFleet, withFleetFlags } from './fleet.js';
import type { Command } from './types.js';

/** `--step` and `--phase` → step ids, in rollout order; none = every step. */
export function selectSteps(flags: FlagValues): string[] {
  const ids = stringList(flags, 'step');
  const phases = stringList(flags, 'phase');
  for (const id of ids) {
    if (!STEPS.some((s) => s.id === id)) {
      throw new UsageError(`unknown step "${id}"`, `steps: ${STEPS.map((s) => s.id).join(', ')}`);
    }
  }
  const phaseNumbers = phases.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || !STEPS.some((s) => s.phase === n)) {
      throw new UsageError(
        `no step in phase "${p}"`,
        `phases with steps: ${[...new Set(STEPS.map((s) => s.phase))].join(', ')}`,
      );
    }
    return n;
  });
  if (ids.length === 0 && phaseNumbers.length === 0) return STEPS.filter((s) => !s.optIn).map((s) => s.id);
  return STEPS.filter((s) => ids.includes(s.id) || (phaseNumbers.includes(s.phase) && !s.optIn)).map(
    (s) => s.id,
  );
}

export function planSummary(plan: Plan): string {
  const lines: string[] = [];
  for (const step of plan.steps) {
    const changes = plan.changes.filter((c) => c.step === step.id);
    const unavailable = changes.filter((c) => c.preview === 'unavailable').length;
    lines.push(
      `${step.id}: ${changes.length} change(s)${step.noops.length ? `, ${step.noops.length} already in place` : ''}${unavailable ? `, ${unavailable} without preview` : ''}`,
    );
  }
  if (plan.unknown.length)
    lines.push(`incomplete inventory: ${plan.unknown.length} resource type(s) unknown`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--out DIR`: DIR/plan.json, DIR/PLAN.md, DIR/manifests/ and DIR/patches/; offline (`manifests` set) also
 * DIR/remediated/, a copy of the manifests with the changes layered on (the source is never modified).
 * Shared by `plan` and `migrate`.
 */
export async function writePlanOutput(
  result: Plan,
  out: string,
  manifests: string | undefined,
  output: Output,
  scope?: Scope,
): Promise<WrittenPlan> {
  const remediated = join(out, 'remediated');
  if (manifests) refuseOutInsideManifests(manifests, out);
  const written = writePlanDir(result, out);
  output.err.write(
    `plan ${result.id} written to ${out}: plan.json, PLAN.md, ${written.manifests.length} manifest(s)${written.patches.length ? `, ${written.patches.length} patch(es) for GitOps sources in patches/` : ''}\n`,
  );
  output.err.write(
    `digest ${written.digest} (pin it: kube-harden apply --plan ${out} --expect-digest ${written.digest.slice(7)})\n`,
  );
  if (!manifests) return written;
  // Read as the inventory read it: -n places the objects that name no namespace.
  const namespace = scope ? manifestNamespace(scope) : undefined;
  const source = await ManifestSource.load(manifests, namespace ? { namespace } : {});
  // Optional changes (e.g. readOnlyRootFilesystem) stay out of the copy: they are applied only when chosen.
  const copy = await writeRemediated(
    source,
    result.changes.filter((c) => !c.optional),
    remediated,
  );
  output.err.write(
    `remediated manifests in ${remediated}: ${copy.rewritten.length} file(s) changed, ${copy.created.length} created\n`,
  );
  return written;
}

export const plan: Command = {
  spec: {
    name: 'plan',
    summary: 'Preview the changes of one or more phases without applying them',
    usage: '[--step ID]... [--phase N]... [--out DIR | --format md|json] [flags]',
    description: `Runs detect → propose → preview for the selected steps. Every change is a server-side dry-run
(dryRun=All, field manager kube-harden) diffed against the live object, with the API server's warnings.
With --out DIR writes DIR/plan.json (the contract \`kube-harden apply --plan DIR\` applies), DIR/manifests/ (one
kubectl-apply-able object per file) and DIR/PLAN.md (for a pull request); offline (--manifests) also DIR/remediated/
(a copy of the manifests with the changes applied; the source is never modified).
Steps: ${STEPS.map((s) => `${s.id} (phase ${s.phase}${s.optIn ? ', only when named' : ''})`).join(', ')}.`,
    flags: [
      ...withFleetFlags(readFlags, 'a sealed plan in --out DIR/<context>/'),
      {
        name: 'step',
        type: 'string',
        multiple: true,
        arg: 'ID',
        description: 'plan this step (repeatable; default: every step not marked "only when named")',
      },
      {
        name: 'phase',
        type: 'string',
        multiple: true,
        arg: 'N',
        description: 'plan the steps of this phase (repeatable)',
      },
      {
        name: 'out',
        type: 'string',
        arg: 'DIR',
        description: 'write plan.json, manifests/ and PLAN.md to DIR',
      },
      {
        name: 'format',
        short: 'o',
        type: 'string',
        arg: 'FORMAT',
        choices: ['md', 'json'],
        description: 'without --out: print the plan as Markdown or JSON',
        default: 'md',
      },
      // The steps' own settings (Step.settings): e.g. --audit-only-max-age of psa-enforce.
      ...settingFlags(stepSettings()),
      {
        name: 'detailed-exitcode',
        type: 'boolean',
        description:
          'exit 0 when apply would change nothing, 2 when it would, 1 on error (manual changes are listed, not counted)',
      },
    ],
    maxPositionals: 0,
    examples: [
      'kube-harden plan --step psa-warn-audit --out plans/phase1',
      'kube-harden plan --manifests examples/legacy-cluster --phase 1 --phase 2 --out /tmp/plan',
      'kube-harden plan -n shop --format json --detailed-exitcode',
      'kube-harden plan --all-contexts --out plans/',
    ],
  },
  async run({ parsed, output, signal }) {
    const contexts = fleetContexts(parsed.flags);
    if (contexts) return planFleet(contexts, parsed.flags, output, signal);
    const options = sessionOptions(parsed.flags, {
      readOnly: true,
      settings: parseSettingFlags(parsed.flags, stepSettings()),
    });
    await checkManifestsPath(options.manifests);
    const out = typeof parsed.flags.out === 'string' ? parsed.flags.out : undefined;
    // Before the inventory: a wrong --out is known now.
    if (out && options.manifests) refuseOutInsideManifests(options.manifests, out);
    const stepIds = selectSteps(parsed.flags);
    const store = headlessStore(options, output);
    try {
      await store.getState().inventory(signal);
      const result = await store.getState().planSteps(stepIds, signal);
      if (out) {
        output.err.write(planSummary(result));
        await writePlanOutput(result, out, options.manifests, output, options.scope);
        output.err.write(`review it, then apply with: kube-harden apply --plan ${out}\n`);
      } else if (parsed.flags.format === 'json') {
        output.out.write(`${JSON.stringify(planJson(result), null, 2)}\n`);
      } else {
        output.out.write(renderPlanMarkdown(result));
      }
      const unpreviewed = reportUnpreviewed(result, output);
      if (parsed.flags['detailed-exitcode']) {
        // Terraform's contract: whether `apply` would change something. Manual changes (phase 6's files, narrowed
        // roles) are never applied by kube-harden; they stay listed until detection sees them done.
        const manual = result.changes.filter((c) => c.kind === 'manual').length;
        if (manual > 0)
          output.err.write(
            `${manual} manual change(s) to do by hand (see PLAN.md); not counted by --detailed-exitcode\n`,
          );
        return result.changes.length > manual ? 2 : ExitCode.ok;
      }
      return result.unknown.length > 0 || unpreviewed > 0 ? ExitCode.incomplete : ExitCode.ok;
    } finally {
      store.getState().close();
    }
  },
};

/**
 * A change whose preview could not be made (a fail-closed webhook without a backend, a conflict) is an unknown:
 * never a silent success. Returns how many there were.
 */
function reportUnpreviewed(result: Plan, output: Output): number {
  const unpreviewed = result.changes.filter((c) => c.preview === 'unavailable');
  for (const c of unpreviewed)
    output.err.write(`preview unavailable: ${c.id}: ${c.previewError ?? 'unknown reason'}\n`);
  return unpreviewed.length;
}

interface FleetPlan {
  dir: string;
  id: string;
  digest: string;
  changes: number;
  manual: number;
}

/**
 * `plan --all-contexts --out DIR` (or several `--context`): one sealed plan per cluster in DIR/<context>/ (the
 * context name made safe for a path, see contextDirNames), and DIR/PLAN.md, an index of them.
 */
async function planFleet(
  contexts: readonly string[],
  flags: FlagValues,
  output: Output,
  signal: AbortSignal,
): Promise<number> {
  const out = typeof flags.out === 'string' ? flags.out : undefined;
  if (!out)
    throw new UsageError(
      'a plan over several contexts needs --out DIR',
      'each cluster gets its own sealed plan in DIR/<context>/',
    );
  if (flags['detailed-exitcode'])
    throw new UsageError(
      '--detailed-exitcode takes one cluster',
      'run `kube-harden plan --context C --detailed-exitcode` per cluster',
    );
  const stepIds = selectSteps(flags);
  const settings = parseSettingFlags(flags, stepSettings());
  const dirs = contextDirNames(contexts);
  const entries = await runFleet<FleetPlan>(
    contexts,
    parallelOf(flags),
    output,
    signal,
    async (context, scoped) => {
      const options = sessionOptions({ ...flags, context }, { readOnly: true, settings });
      const store = headlessStore(options, scoped);
      try {
        await store.getState().inventory(signal);
        const result = await store.getState().planSteps(stepIds, signal);
        const dir = join(out, dirs.get(context) ?? context);
        scoped.err.write(planSummary(result));
        const written = await writePlanOutput(result, dir, undefined, scoped);
        const unpreviewed = reportUnpreviewed(result, scoped);
        const incomplete = result.unknown.length > 0 || unpreviewed > 0;
        return {
          context,
          status: incomplete ? 'incomplete' : 'ok',
          exitCode: incomplete ? ExitCode.incomplete : ExitCode.ok,
          ...(incomplete
            ? {
                reason: [
                  result.unknown.length ? `${result.unknown.length} resource type(s) unknown` : '',
                  unpreviewed ? `${unpreviewed} change(s) without preview` : '',
                ]
                  .filter(Boolean)
                  .join(', '),
              }
            : {}),
          ...(result.source.kind === 'cluster' ? { server: result.source.server } : {}),
          result: {
            dir: dirs.get(context) ?? context,
            id: result.id,
            digest: written.digest,
            changes: result.changes.length,
            manual: result.changes.filter((c) => c.kind === 'manual').length,
          },
        };
      } finally {
        store.getState().close();
      }
    },
  );
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'PLAN.md'), renderFleetPlanIndex(entries));
  output.err.write(`fleet plan index written to ${join(out, 'PLAN.md')}\n`);
  const code = fleetExitCode(entries);
  if (code !== ExitCode.ok)
    output.err.write(
      `incomplete: ${entries.filter((e) => e.status !== 'ok').length} of ${entries.length} cluster(s) without a complete plan (exit ${code})\n`,
    );
  return code;
}

/** DIR/PLAN.md of a fleet plan: one row per cluster, sorted by context; each plan is applied on its own. */
export function renderFleetPlanIndex(entries: readonly FleetEntry<FleetPlan>[]): string {
  const sorted = [...entries].sort((a, b) => (a.context < b.context ? -1 : a.context > b.context ? 1 : 0));
  const lines = [
    '# kube-harden fleet plan',
    '',
    'One sealed plan per cluster. Review each, then apply it against its own context:',
    '`kube-harden apply --context CONTEXT --plan DIR/PLAN-DIR --expect-digest DIGEST`.',
    '',
    ...mdTable(
      ['CONTEXT', 'STATUS', 'PLAN', 'CHANGES', 'MANUAL', 'DIGEST', 'NOTE'],
      sorted.map((e) => [
        e.context,
        e.status,
        e.result ? `${e.result.dir}/` : '-',
        e.result ? String(e.result.changes - e.result.manual) : '-',
        e.result ? String(e.result.manual) : '-',
        e.result ? e.result.digest : '-',
        [e.reason, e.hint].filter(Boolean).join(' — '),
      ]),
    ),
    '',
  ];
  return lines.join('\n');
}
