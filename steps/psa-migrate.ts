/**
 * Phase 2, opt-in (`kube-harden migrate -n NS`): fix the workloads that keep a namespace from enforcing its target
 * Pod Security level. For each blocking workload the fix is a server-side apply configuration of its pod template
 * that sets only what the failing checks need and never loosens anything (steps/kit/pod-security-fix.ts); what
 * still fails (hostPath, privileged, …) is named in the change's notes with the next action.
 * `readOnlyRootFilesystem: true` + an `emptyDir` at `/tmp` is a separate, optional change. Workloads whose source of
 * truth is Helm, Argo CD or Flux get their fix exported as a patch, with a note that the source must change too.
 * A bare Pod cannot be fixed in place, nor a Job (`pkg/apis/batch/validation`: a Job's pod template is immutable).
 */

import { mergeApply } from '../src/engine/fields.js';
import { toYaml } from '../src/engine/normalize.js';
import type { ObjectRule, ValueRule } from '../src/engine/targets.js';
import type { Change, SettingSpec, Step, StepFinding, Verification } from '../src/engine/types.js';
import { projectPodSpec, securityAnnotations } from '../src/inventory/project.js';
import { inScope } from '../src/inventory/scope.js';
import type { ManagedBy, Workload, WorkloadKind } from '../src/inventory/types.js';
import { type Json as J, list, map } from '../src/k8s/json.js';
import { Kinds } from '../src/k8s/kinds.js';
import type { AccessCheck, KubeObject, ObjectRef } from '../src/k8s/types.js';
import type { NamespacePosture, PsaLabel } from '../src/policy/assess.js';
import {
  type CheckViolation,
  compareLevels,
  evaluatePod,
  type Level,
  type PolicyVersionString,
} from '../src/policy/pss/index.js';
import { knownControllersOf } from '../src/policy/sa/controllers.js';
import { failedCreateSince } from './kit/failed-create.js';
import { finding } from './kit/findings.js';
import { type FixLevel, fixTemplate, type TemplateFix, type UserChoice } from './kit/pod-security-fix.js';
import { pinnedVersion } from './kit/psa.js';
import { readBack, templateKept } from './kit/read-back.js';
import { parseChoice, settingOf } from './kit/settings.js';
import {
  type PodTemplate,
  TEMPLATE_KINDS,
  templateOf,
  templatePath,
  workloadConfig,
} from './kit/workloads.js';

/** The level to migrate to, instead of the namespace tier's (`kube-harden migrate --target`). */
export const TARGET: SettingSpec<FixLevel> = {
  key: 'psa-migrate.target',
  flag: 'target',
  type: 'LEVEL',
  description: "the level to migrate to (default: the namespace tier's level)",
  choices: ['baseline', 'restricted'],
  parse: parseChoice(['baseline', 'restricted'] as const),
};
export const TARGET_SETTING = TARGET.key;

/** `--run-as-user`: the choice for containers that run as root or whose image user is unknown. */
export interface RunAsUser {
  /** For every workload (`65532`, `10001`, `keep-root`); absent: no choice made. */
  all?: UserChoice;
  /** Per workload, by `NS/NAME`: wins over `all`. */
  workloads: Record<string, UserChoice>;
}

function parseUserChoice(text: string): UserChoice | undefined {
  if (text === 'keep-root') return 'keep-root';
  if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const uid = Number(text);
  return uid <= 2147483647 ? { uid } : undefined;
}

/** `65532`, `keep-root`, `shop/redis=999`, …, comma-separated (the flag is repeatable). */
export function parseRunAsUser(
  text: string,
): { ok: true; value: RunAsUser } | { ok: false; error: string; hint: string } {
  const value: RunAsUser = { workloads: {} };
  const hint =
    'use a UID (e.g. 65532 or 10001), keep-root, or NS/NAME=UID|keep-root for one workload; the image must support the UID';
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)=(.+)$/.exec(part);
    const choice = parseUserChoice(m ? (m[5] as string) : part);
    if (!choice) return { ok: false, error: `has an invalid value "${part}"`, hint };
    if (m) value.workloads[`${m[1]}/${m[3]}`] = choice;
    else if (value.all !== undefined) return { ok: false, error: 'is given twice for all workloads', hint };
    else value.all = choice;
  }
  return { ok: true, value };
}

/** The value is kept as typed (comma list), validated here; the step reads it with `parseRunAsUser`. */
export const RUN_AS_USER: SettingSpec<string> = {
  key: 'psa-migrate.runAsUser',
  flag: 'run-as-user',
  type: 'UID|keep-root',
  description:
    'containers that run as root or whose image user is unknown: run them as this UID (e.g. 65532 or 10001 — the image must support it) or keep-root (recorded as an exception); NS/NAME=… for one workload (repeatable)',
  multiple: true,
  parse: (text) => {
    const r = parseRunAsUser(text);
    return r.ok ? { ok: true, value: text } : r;
  },
};

export interface MigrateWorkload {
  ref: ObjectRef;
  kind: WorkloadKind;
  /** Violations at the target level (template and live pods; from the assessment), upstream order. */
  violations: CheckViolation[];
  /** The pod template, from a targeted read of the live object (or the snapshot when it could not be read). */
  template?: PodTemplate;
  templateSource: 'live' | 'snapshot' | 'none';
  /** Check → ids of the valid exceptions that cover it. */
  excepted: Record<string, string[]>;
  /** Checks only live pods fail (not the template): they come from an older template. */
  podsOnly: string[];
  managedBy: ManagedBy[];
  pods: number;
  /** `OnDelete` (StatefulSet/DaemonSet), `Recreate` (Deployment); absent = rolling. */
  strategy?: string;
  paused?: boolean;
  /** The `--run-as-user` choice that applies to it, and whether it names this workload. */
  user?: UserChoice;
  userForWorkload?: boolean;
  /** Why it is a system or infrastructure agent (its users and capabilities are left alone). */
  agent?: string;
}

/** A workload that does not pass restricted after the proposed fixes (PLAN.md's table). */
export interface LeftWorkload {
  kind: string;
  namespace: string;
  name: string;
  tier: NamespacePosture['tier'];
  target: Level;
  /** Whether it passes its target level after the fixes (exceptions do not count: Pod Security ignores them). */
  passesTarget: boolean;
  /** Restricted checks it still fails. */
  checks: string[];
  why: string;
}

/** A container kept running as root by `--run-as-user keep-root`: an exception to record. */
export interface KeptRoot {
  namespace: string;
  kind: string;
  name: string;
  container: string;
  controls: string[];
}

export interface MigrateNamespace {
  name: string;
  tier: NamespacePosture['tier'];
  /** The enforced level today (null: no enforce label, i.e. privileged unless the cluster default differs). */
  current: Level | null;
  target: Level;
  targetFrom: 'tier' | 'option';
  warn: PsaLabel | null;
  workloads: MigrateWorkload[];
}

export interface MigrateFacts {
  version: PolicyVersionString;
  serverMinor?: number;
  namespaces: MigrateNamespace[];
  /** Manifests, not a cluster: a bare Pod's or a Job's fix is a manifest fix, not a re-create. */
  offline?: boolean;
  /** Every workload in scope that does not pass restricted after the fixes, and why. */
  left?: LeftWorkload[];
  keptRoot?: KeptRoot[];
  /** When the facts were gathered (exception drafts expire 90 days later). */
  now?: string;
}

const TOOLS_WITH_SOURCE = new Set(['helm', 'argocd', 'flux']);

function describeWorkload(w: { kind: string; ref: ObjectRef }): string {
  return `${w.kind} ${w.ref.namespace}/${w.ref.name}`;
}

function changeId(w: MigrateWorkload): string {
  return `psa-migrate/${w.kind.toLowerCase()}/${w.ref.namespace}/${w.ref.name}`;
}

/** Why a workload cannot get a fix in place, or undefined when it can. */
function notInPlace(w: MigrateWorkload, offline = false): string | undefined {
  if (!w.template)
    return 'its pod template could not be read (only its pods were): fix it at its source, then run migrate again';
  if (offline) return undefined;
  if (w.kind === 'Pod')
    return 'a bare Pod cannot be changed in place: fix its manifest and re-create it (or run it from a Deployment)';
  if (w.kind === 'Job')
    return "a Job's pod template is immutable: fix its manifest (or the CronJob that creates it) and re-create it";
  return undefined;
}

/** The fix of one workload of the facts (pure; detect and propose both use it). */
function analyse(w: MigrateWorkload, level: FixLevel, facts: Pick<MigrateFacts, 'version' | 'serverMinor'>) {
  if (!w.template) return undefined;
  return fixTemplate(
    w.template,
    {
      level,
      version: facts.version,
      ...(facts.serverMinor !== undefined ? { serverMinor: facts.serverMinor } : {}),
      ...(w.user ? { user: w.user } : {}),
      ...(w.userForWorkload ? { userForWorkload: true } : {}),
      ...(w.agent ? { agent: w.agent } : {}),
    },
    new Map(Object.entries(w.excepted)),
  );
}

function workloadNotes(w: MigrateWorkload, tf: TemplateFix, source: ManagedBy | undefined): string[] {
  const notes: string[] = [];
  if (source) {
    notes.push(
      `managed by ${source.detail}: change its source too (chart values or Git), or the next sync reverts this fix — the fix is exported as a patch (patches/ in the plan directory)`,
    );
  }
  notes.push(...tf.notes);
  if (w.podsOnly.length) {
    notes.push(
      `live pods also fail ${w.podsOnly.join(', ')} although the template does not: they come from an older template or were changed after creation — they are replaced when the pods roll`,
    );
  }
  if (w.kind === 'ReplicaSet' || w.kind === 'ReplicationController') {
    notes.push(
      `a ${w.kind} does not replace its pods when its template changes: delete them one at a time so that it re-creates them with the fix`,
    );
  }
  if (w.kind === 'CronJob')
    notes.push('Jobs already started keep the old template; the next run uses the fix');
  if (w.strategy === 'OnDelete')
    notes.push(
      'updateStrategy OnDelete: the pods keep the old template until you delete them (one at a time)',
    );
  if (w.strategy === 'Recreate')
    notes.push('strategy Recreate: all pods stop before the new ones start (a short outage)');
  if (w.paused) notes.push('the Deployment is paused: the fix rolls out when it is resumed');
  if (w.templateSource === 'snapshot')
    notes.push('computed from the inventory (the live object could not be read): preview before applying');
  return notes;
}

/** What enforcing the target takes once the proposed fixes are in, for one namespace. */
function summaryOf(ns: MigrateNamespace, level: FixLevel, facts: MigrateFacts): string {
  if (ns.workloads.length === 0) {
    const enforced = ns.current !== null && compareLevels(ns.current, level) >= 0;
    return `namespace ${ns.name}: every workload template and pod passes ${level} already — ${enforced ? `and it enforces ${ns.current}` : `enforce it: kube-harden plan --step psa-enforce -n ${ns.name}`}`;
  }
  const still = ns.workloads.flatMap((w) => {
    const tf = analyse(w, level, facts);
    const checks =
      notInPlace(w, facts.offline) || !tf
        ? w.violations.map((v) => v.check)
        : tf.remaining.map((r) => r.check);
    return checks.length ? [`${w.kind} ${w.ref.name} (${checks.join(', ')})`] : [];
  });
  if (still.length === 0) {
    return `namespace ${ns.name}: with the proposed fixes every workload template passes ${level} — once the pods have rolled, enforce it: kube-harden plan --step psa-enforce -n ${ns.name}`;
  }
  return `namespace ${ns.name}: ${still.length} of ${ns.workloads.length} blocking workload(s) still fail ${level} after the proposed fixes: ${still.join('; ')} — fix them by hand (see the notes), then run migrate again`;
}

/**
 * What the fixes may write (`Step.targets`): only the securityContext fields `fixTemplate` sets, with the values
 * it sets (never a loosening one), and the optional read-only root's emptyDir at /tmp, on the pod template of the
 * workload kinds whose template can change in place.
 */
function migrateTargets(): ObjectRule[] {
  const kinds: ReadonlyArray<readonly [string, WorkloadKind]> = [
    ...TEMPLATE_KINDS,
    // Offline manifest fixes only (a plan made from manifests is never applied to a cluster; live, a bare Pod or a
    // Job is re-created by hand): listed so that every change the step proposes is within its targets.
    ['batch/v1', 'Job'],
    ['v1', 'Pod'],
  ];
  const container: Record<string, ValueRule> = {
    name: 'any',
    'securityContext.allowPrivilegeEscalation': { equals: false },
    'securityContext.capabilities.drop': { every: /^[A-Za-z_]+$/ },
    'securityContext.seccompProfile.type': { equals: 'RuntimeDefault' },
    'securityContext.runAsNonRoot': { equals: true },
    'securityContext.runAsUser': { matches: /^[1-9]\d{0,9}$/ },
    'securityContext.readOnlyRootFilesystem': { equals: true },
    'volumeMounts[].name': { matches: /^(tmp|kube-harden-tmp(-\d+)?)$/ },
    'volumeMounts[].mountPath': { equals: '/tmp' },
  };
  return kinds.map(([apiVersion, kind]) => {
    const spec = `${(templatePath(kind) ?? []).join('.')}.spec`;
    const fields: Record<string, ValueRule> = {
      [`${spec}.securityContext.runAsNonRoot`]: { equals: true },
      [`${spec}.securityContext.runAsUser`]: { matches: /^[1-9]\d{0,9}$/ },
      [`${spec}.securityContext.seccompProfile.type`]: { equals: 'RuntimeDefault' },
      [`${spec}.volumes[].name`]: { matches: /^(tmp|kube-harden-tmp(-\d+)?)$/ },
      [`${spec}.volumes[].emptyDir`]: { equals: {} },
    };
    for (const list of ['initContainers', 'containers'])
      for (const [path, rule] of Object.entries(container)) fields[`${spec}.${list}[].${path}`] = rule;
    return { apiVersion, kind, operations: ['update'], fields };
  });
}

/**
 * Why a workload is a system or infrastructure agent, if it is: everything in a system-tier namespace, a DaemonSet
 * with host access (CNI, CSI, node exporters, kube-proxy, log shippers), and known controllers in an
 * infrastructure namespace (src/policy/sa/controllers.ts). Their users and capabilities are never changed.
 */
export function agentOf(
  w: Pick<Workload, 'kind' | 'namespace' | 'template' | 'labels'>,
  tier: NamespacePosture['tier'],
): string | undefined {
  if (tier === 'system') return `a system-tier workload (namespace ${w.namespace})`;
  const spec = map(w.template?.spec as unknown as J);
  const host =
    spec.hostNetwork === true ||
    spec.hostPID === true ||
    spec.hostIPC === true ||
    list(spec.volumes).some((v) => v.hostPath !== undefined);
  if (w.kind === 'DaemonSet' && host) return 'a node agent (a DaemonSet with host access)';
  if (tier === 'infrastructure') {
    const images = ['initContainers', 'containers'].flatMap((k) =>
      list(spec[k]).flatMap((c) => (typeof c.image === 'string' ? [c.image] : [])),
    );
    const known = knownControllersOf(images, w.labels['helm.sh/chart']);
    if (known.length) return `an infrastructure agent (it ${known[0]})`;
  }
  return undefined;
}

/** The `--run-as-user` choice for one workload: its own (`NS/NAME=…`) or the one for all. */
function userChoiceFor(setting: RunAsUser | undefined, namespace: string, name: string) {
  const own = setting?.workloads[`${namespace}/${name}`];
  if (own) return { user: own, userForWorkload: true as const };
  return setting?.all ? { user: setting.all } : {};
}

const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** PLAN.md's table of the workloads left non-compliant. */
export function leftTable(left: readonly LeftWorkload[]): string {
  const lines = [
    '| Workload | Tier (target) | Target after the fixes | Still fails restricted | Why, and what to do |',
    '|---|---|---|---|---|',
  ];
  for (const l of left) {
    lines.push(
      `| ${l.kind} ${l.namespace}/${l.name} | ${l.tier} (${l.target}) | ${l.passesTarget ? 'passes' : '**fails**'} | ${l.checks.join(', ')} | ${cell(l.why)} |`,
    );
  }
  return lines.join('\n');
}

/** The exceptions register entries (examples/legacy-cluster-exceptions.yaml's format) for keep-root choices. */
export function keptRootExceptions(kept: readonly KeptRoot[], now: Date): string {
  const expires = new Date(now.getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
  const q = (t: string) => JSON.stringify(t);
  const lines = [
    '# kube-harden exceptions for containers kept running as root (--run-as-user keep-root).',
    '# Merge these entries into your exceptions register (--exceptions FILE); set owner and ticket.',
    'apiVersion: kube-harden.io/v1alpha1',
    'kind: ExceptionList',
    'exceptions:',
  ];
  for (const k of kept) {
    const id = `${k.namespace}-${k.name}-${k.container}-runs-as-root`
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-');
    lines.push(
      `  - id: ${id}`,
      `    scope: { namespace: ${q(k.namespace)}, kind: ${k.kind}, name: ${q(k.name)}, container: ${q(k.container)} }`,
      `    controls: [${k.controls.join(', ')}]`,
      '    reason: kept running as root by kube-harden migrate --run-as-user keep-root (the image needs root)',
      '    owner: TODO',
      '    ticket: TODO',
      `    expires: ${expires}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Every workload in scope that does not pass restricted once the proposed fixes are in (`facts.left`), with why,
 * and the containers kept as root (`facts.keptRoot`). Pure over the facts, the snapshot and the assessment.
 */
function leftAfterFixes(
  facts: MigrateFacts,
  ctx: Pick<Parameters<Step['detect']>[0], 'assessment' | 'snapshot'>,
) {
  const left: LeftWorkload[] = [];
  const kept: KeptRoot[] = [];
  const evalOpts = facts.serverMinor === undefined ? undefined : { serverMinor: facts.serverMinor };
  for (const posture of ctx.assessment.namespaces) {
    const ns = facts.namespaces.find((n) => n.name === posture.name);
    if (!ns) continue;
    for (const wa of ctx.assessment.workloads) {
      if (wa.namespace !== ns.name) continue;
      const w = ctx.snapshot.workloads.find(
        (x) => x.namespace === wa.namespace && x.kind === wa.kind && x.name === wa.name,
      );
      const mw = ns.workloads.find((x) => x.kind === wa.kind && x.ref.name === wa.name);
      const template = mw?.template ?? (w?.template as unknown as PodTemplate | undefined);
      const row = { kind: wa.kind, namespace: wa.namespace, name: wa.name, tier: ns.tier, target: ns.target };
      if (!template) {
        left.push({
          ...row,
          passesTarget: false,
          checks: ['unknown'],
          why: 'its pod template could not be read (unknown is not compliant)',
        });
        continue;
      }
      const tf = mw && ns.target !== 'privileged' ? analyse(mw, ns.target as FixLevel, facts) : undefined;
      const patched = tf?.fix ? (mergeApply(template, tf.fix) as PodTemplate) : template;
      const restricted = evaluatePod(
        { level: 'restricted', version: facts.version },
        patched,
        evalOpts,
      ).violations;
      for (const k of tf?.keptRoot ?? [])
        kept.push({ namespace: wa.namespace, kind: wa.kind, name: wa.name, ...k });
      if (restricted.length === 0) continue;
      const passesTarget =
        ns.target === 'privileged' ||
        evaluatePod({ level: ns.target, version: facts.version }, patched, evalOpts).allowed;
      const notes = (tf?.notes ?? []).filter((n) => !n.startsWith('the image'));
      const agent = mw?.agent ?? (w ? agentOf(w, ns.tier) : undefined);
      const why =
        ns.target === 'restricted'
          ? notes.join('; ') || 'not fixed automatically'
          : `the ${ns.tier} tier's target is ${ns.target}${passesTarget ? ', which it passes' : ''}: restricted is not attempted${agent ? ` (${agent}: host namespaces, hostPath and capabilities are never removed)` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}`;
      left.push({ ...row, passesTarget, checks: restricted.map((r) => r.check), why });
    }
  }
  facts.left = left;
  facts.keptRoot = kept;
}

/** A JSON merge patch that removes what the API server generated for a Job from its uid (selector, labels). */
const JOB_GENERATED = {
  metadata: {
    labels: {
      'controller-uid': null,
      'batch.kubernetes.io/controller-uid': null,
      'job-name': null,
      'batch.kubernetes.io/job-name': null,
    },
  },
  spec: {
    selector: null,
    template: {
      metadata: {
        labels: {
          'controller-uid': null,
          'batch.kubernetes.io/controller-uid': null,
          'job-name': null,
          'batch.kubernetes.io/job-name': null,
        },
      },
    },
  },
};

/**
 * A bare Pod or a Job in a cluster cannot take the fix in place (a Pod's securityContext and a Job's template are
 * immutable): a manual re-create, disruptive (the Pod's containers stop; a Job runs again), with the fix as a patch
 * and the exact commands. kube-harden has no delete-and-create change, so it never does this itself.
 */
function recreate(w: MigrateWorkload, tf: TemplateFix, level: FixLevel): Change | undefined {
  if (!tf.fix) return undefined;
  const { namespace, name } = w.ref;
  const resource = w.kind === 'Pod' ? 'pod' : 'job';
  const patch = workloadConfig(w.ref, w.kind, tf.fix);
  const file = `${resource}-${namespace}-${name}.patch.yaml`;
  // A Job's selector and its controller-uid / job-name labels were generated from its uid: a new Job with them is
  // refused ("`selector` not auto-generated"). They go, and nothing else changes; the API server generates them again.
  const job = w.kind === 'Job';
  const original = job ? `${name}-original.yaml` : `${name}.yaml`;
  const commands = [
    `kubectl get ${resource} ${name} -n ${namespace} -o yaml > ${name}.yaml`,
    ...(job
      ? [
          `kubectl patch --local -f ${name}.yaml --type merge --patch '${JSON.stringify(JOB_GENERATED)}' -o yaml > ${original}`,
        ]
      : []),
    `kubectl patch --local -f ${original} --type strategic --patch-file ${file} -o yaml > ${name}-fixed.yaml`,
    `kubectl replace --force -f ${name}-fixed.yaml`,
  ];
  const undo = `To undo: \`kubectl replace --force -f ${original}\` re-creates the ${w.kind} as it was${job ? ' (it runs again)' : ''}.`;
  return {
    kind: 'manual',
    id: `${changeId(w)}/recreate`,
    risk: 'disruptive',
    reason: `${describeWorkload(w)} fails ${level} (${w.violations.map((v) => v.check).join(', ')}); ${w.kind === 'Pod' ? "a Pod's securityContext cannot change in place" : "a Job's pod template is immutable"}: re-create it with the fix (${tf.fixed.join('; ')}). Disruptive: ${w.kind === 'Pod' ? 'the Pod is deleted and created again (its containers restart)' : 'the Job is deleted (its pods too) and runs again'}.`,
    notes: [
      ...tf.notes,
      ...(w.kind === 'Pod'
        ? ['better: run it from a Deployment or a Job, so that the next fix is a rolling change']
        : [
            'the merge patch removes only the selector and the controller-uid / job-name labels the API server generated from the old uid (it generates them again); a Job with spec.manualSelector: true keeps its own: skip that line',
          ]),
    ],
    artifact: {
      path: file,
      content: `# strategic-merge patch: the fix of ${describeWorkload(w)}\n${toYaml(patch)}`,
    },
    instructions: `Re-create it with the fix (\`kubectl replace --force\` deletes it, then creates it again):\n\n\`\`\`sh\n${commands.join('\n')}\n\`\`\`\n\n${undo}`,
  };
}

export const psaMigrate: Step<MigrateFacts> = {
  id: 'psa-migrate',
  phase: 2,
  title: 'Pod Security migration: workload fixes',
  summary:
    'fix the workloads that block a namespace from enforcing its target level (securityContext changes; pods roll)',
  risk: 'disruptive',
  optIn: true,
  needs: ['psa-warn-audit'],
  settings: [TARGET, RUN_AS_USER],
  targets: migrateTargets(),

  permissions(options, snapshot) {
    const checks: AccessCheck[] = [];
    const seen = new Set<string>();
    for (const w of snapshot.workloads) {
      if (!inScope(options, w.namespace) || w.kind === 'Pod' || w.kind === 'Job') continue;
      const info = Kinds[w.kind];
      const key = `${info.resource}/${w.namespace}`;
      if (seen.has(key)) continue;
      seen.add(key);
      checks.push({ verb: 'patch', group: info.group, resource: info.resource, namespace: w.namespace });
    }
    return checks;
  },

  async detect(ctx) {
    const { assessment, snapshot, options, reader } = ctx;
    const version = pinnedVersion(options.psaVersion, snapshot.serverVersion) as PolicyVersionString;
    const override = settingOf(TARGET, options);
    const runAsUserText = settingOf(RUN_AS_USER, options);
    const parsedUser = runAsUserText === undefined ? undefined : parseRunAsUser(runAsUserText);
    const runAsUser = parsedUser?.ok ? parsedUser.value : undefined;
    const facts: MigrateFacts = {
      version,
      namespaces: [],
      offline: snapshot.source.kind === 'manifests',
      left: [],
      keptRoot: [],
      now: options.now.toISOString(),
    };
    if (snapshot.serverVersion) facts.serverMinor = snapshot.serverVersion.minor;
    const evalOpts = facts.serverMinor === undefined ? undefined : { serverMinor: facts.serverMinor };
    const findings: StepFinding[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name)) continue;
      const nsTarget = { kind: 'Namespace', name: posture.name };
      if (posture.unreadable || !posture.psa || posture.strictestWithoutExceptions === 'unknown') {
        findings.push(
          finding(
            'KH-UNKNOWN',
            nsTarget,
            `namespace ${posture.name}: its workloads or labels could not all be read, so no fixes are proposed (unknown is not compliant)`,
          ),
        );
        continue;
      }
      const target = override ?? posture.targetLevel;
      const enforce = posture.psa.enforce;
      const ns: MigrateNamespace = {
        name: posture.name,
        tier: posture.tier,
        current: enforce && !enforce.invalid ? enforce.level : null,
        target,
        targetFrom: override ? 'option' : 'tier',
        warn: posture.psa.warn,
        workloads: [],
      };
      facts.namespaces.push(ns);
      if (target === 'privileged') {
        findings.push(
          finding(
            'KH-PSA-MIGRATE-SUMMARY',
            nsTarget,
            `namespace ${posture.name}: ${posture.tier} tier, target level privileged — nothing to migrate`,
          ),
        );
        continue;
      }
      const level = target as FixLevel;
      for (const wa of assessment.workloads) {
        if (wa.namespace !== posture.name || wa.pss[level].allowed) continue;
        const w = snapshot.workloads.find(
          (x) => x.namespace === wa.namespace && x.kind === wa.kind && x.name === wa.name,
        );
        if (!w) continue;
        const ref: ObjectRef = {
          apiVersion: w.apiVersion,
          kind: w.kind,
          namespace: w.namespace,
          name: w.name,
        };
        const excepted: Record<string, string[]> = {};
        for (const f of assessment.findings) {
          if (!f.excepted || !f.checks || f.target.container !== undefined) continue;
          if (f.target.kind !== w.kind || f.target.namespace !== w.namespace || f.target.name !== w.name)
            continue;
          for (const c of f.checks)
            excepted[c] = [...new Set([...(excepted[c] ?? []), ...(f.exceptedBy ?? [])])];
        }
        const mw: MigrateWorkload = {
          ref,
          kind: w.kind,
          violations: wa.pss[level].violations,
          templateSource: 'none',
          excepted,
          podsOnly: [],
          managedBy: w.managedBy,
          pods: w.pods.length,
          ...userChoiceFor(runAsUser, w.namespace, w.name),
        };
        const agent = agentOf(w, posture.tier);
        if (agent) mw.agent = agent;
        // A targeted read: fix what is live now, with every field (the snapshot keeps only what evaluators read).
        let live: KubeObject | undefined;
        try {
          live = (await reader.get(ref, ctx.signal)).value;
        } catch {
          live = undefined;
        }
        const t = live ? templateOf(w.kind, live) : undefined;
        if (t) {
          // Only what the evaluator and the fix read (the projection the inventory uses): no env values, no args.
          const annotations = securityAnnotations(t.metadata?.annotations);
          mw.template = {
            metadata: annotations ? { annotations } : {},
            spec: projectPodSpec(t.spec) as unknown as J,
          };
          mw.templateSource = 'live';
          const spec = map(live?.spec);
          const strategy = map(spec.strategy).type ?? map(spec.updateStrategy).type;
          if (strategy === 'OnDelete' || strategy === 'Recreate') mw.strategy = strategy;
          if (spec.paused === true) mw.paused = true;
        } else if (w.template) {
          mw.template = w.template as unknown as PodTemplate;
          mw.templateSource = 'snapshot';
        }
        if (mw.template) {
          const own = new Set(
            evaluatePod({ level, version }, mw.template, evalOpts).violations.map((v) => v.check),
          );
          mw.podsOnly = mw.violations.map((v) => v.check).filter((c) => !own.has(c));
        }
        ns.workloads.push(mw);
        const tf = analyse(mw, level, facts);
        const why = notInPlace(mw, facts.offline);
        const checks = mw.violations.map((v) => v.check).join(', ');
        let message = `${w.kind} ${w.namespace}/${w.name} blocks ${target} (${checks})`;
        if (why) {
          message += ` — ${why}`;
          if ((w.kind === 'Pod' || w.kind === 'Job') && tf?.fix)
            message += ` (manual, disruptive: ${changeId(mw)}/recreate)`;
          if (tf?.fixed.length) message += `; set ${tf.fixed.join('; ')}`;
          if (tf?.notes.length) message += `; ${tf.notes.join('; ')}`;
        } else if (tf && !tf.fix && tf.remaining.length === 0) {
          message += ` — its template passes; only pods from an older template fail (${mw.podsOnly.join(', ')}): they are replaced when the pods roll (kubectl rollout restart)`;
        } else if (tf && !tf.fix) {
          message += ` — nothing can be fixed automatically: ${tf.notes.join('; ')}`;
        } else {
          message += ` — fix proposed: ${changeId(mw)}`;
        }
        findings.push(
          finding('KH-PSA-MIGRATE-BLOCKER', { kind: w.kind, namespace: w.namespace, name: w.name }, message),
        );
      }
      ns.workloads.sort((a, b) =>
        a.kind === b.kind ? (a.ref.name < b.ref.name ? -1 : 1) : a.kind < b.kind ? -1 : 1,
      );
      findings.push(finding('KH-PSA-MIGRATE-SUMMARY', nsTarget, summaryOf(ns, level, facts)));
    }
    leftAfterFixes(facts, ctx);
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const ns of facts.namespaces) {
      if (ns.target === 'privileged') continue;
      const level = ns.target as FixLevel;
      for (const w of ns.workloads) {
        const tf = analyse(w, level, facts);
        if (!tf) continue;
        if (notInPlace(w, facts.offline)) {
          if (w.kind === 'Pod' || w.kind === 'Job') {
            const c = recreate(w, tf, level);
            if (c) changes.push(c);
          }
          continue;
        }
        const source = w.managedBy.find((m) => TOOLS_WITH_SOURCE.has(m.tool));
        const notes = workloadNotes(w, tf, source);
        const exportPatch = source ? { exportPatch: source.detail } : {};
        if (tf.fix) {
          const rolls =
            w.kind === 'Pod' || w.kind === 'Job'
              ? ` Offline, the manifest is fixed; a running ${w.kind} cannot take it in place (its ${w.kind === 'Pod' ? 'spec' : 'pod template'} is immutable): re-create it from the fixed manifest (kubectl replace --force -f FILE).`
              : ' Its pods are replaced with the new template.';
          const outcome =
            tf.remaining.length === 0
              ? `With it, the template passes ${level}:${facts.version}.`
              : `It still fails ${tf.remaining.map((r) => r.check).join(', ')} (see notes).`;
          changes.push({
            kind: 'apply',
            id: changeId(w),
            target: w.ref,
            desired: workloadConfig(w.ref, w.kind, tf.fix),
            risk: 'disruptive',
            reason: `${describeWorkload(w)} fails ${level} (${w.violations.map((v) => v.check).join(', ')}): set ${tf.fixed.join('; ')}. ${outcome}${rolls}`,
            notes,
            ...exportPatch,
          });
        }
        if (tf.optional) {
          changes.push({
            kind: 'apply',
            id: `${changeId(w)}/read-only-root`,
            target: w.ref,
            desired: workloadConfig(w.ref, w.kind, tf.optional),
            risk: 'disruptive',
            reason: `optional for ${describeWorkload(w)}: ${tf.optionalFixed.join('; ')}${tf.fix ? ', on top of the fix above (it includes it)' : ''}. Not needed for ${level}; it stops writes outside /tmp and mounted volumes.`,
            notes: [
              'the app must write only to /tmp and its volumes: anything else now fails with "Read-only file system" — try it in a test environment first',
              ...(tf.fix ? (source ? [notes[0] as string] : []) : notes),
            ],
            optional: true,
            ...exportPatch,
          });
        }
      }
    }
    const left = facts.left ?? [];
    if (left.length) {
      const table = leftTable(left);
      changes.push({
        kind: 'manual',
        id: 'psa-migrate/left-non-compliant',
        risk: 'manual',
        reason: `${left.length} workload(s) do not pass restricted after these fixes; each is named below with why and what to do (the table is also in left-non-compliant.md).`,
        notes: [],
        artifact: { path: 'left-non-compliant.md', content: `${table}\n` },
        instructions: table,
      });
    }
    const kept = facts.keptRoot ?? [];
    if (kept.length) {
      changes.push({
        kind: 'manual',
        id: 'psa-migrate/keep-root-exceptions',
        risk: 'manual',
        reason: `${kept.length} container(s) keep running as root (--run-as-user keep-root): record them as exceptions, so that they are reviewed and expire instead of being forgotten.`,
        notes: [],
        artifact: {
          path: 'keep-root-exceptions.yaml',
          content: keptRootExceptions(kept, new Date(facts.now ?? Date.now())),
        },
        instructions:
          'Merge keep-root-exceptions.yaml into your exceptions register (the file you pass with --exceptions); set owner and ticket. The namespace still cannot enforce restricted while they run as root: Pod Security cannot exempt one workload.',
      });
    }
    return changes;
  },

  explain(facts, changes) {
    const fixes = changes.filter((c) => c.kind === 'apply' && !c.optional).length;
    const optional = changes.filter((c) => c.optional).length;
    const recreates = changes.filter((c) => c.kind === 'manual' && c.risk === 'disruptive').length;
    const left = facts.left?.length ?? 0;
    const targets = facts.namespaces.map((n) => `${n.name} → ${n.target}`).join(', ');
    return {
      why: `A namespace can enforce its target Pod Security level (${targets || 'none in scope'}) only when every workload template passes it; the API server checks only new pods, never templates, so a violating template fails later with FailedCreate. Each fix sets only the securityContext fields the failing checks need and never loosens anything; what cannot be fixed automatically is named with the next action.`,
      impact: `${fixes} workload fix(es)${optional ? ` and ${optional} optional change(s)` : ''}${recreates ? `, ${recreates} re-create(s) by hand (bare Pods, Jobs)` : ''}${left ? `; ${left} workload(s) left non-compliant, each named with why` : ''}. A changed pod template replaces the workload's pods (rolling update, or as its strategy says). A container whose image runs as root, or as a non-numeric user, does not start under runAsNonRoot (CreateContainerConfigError): read the notes about images first.`,
      rollback:
        'kube-harden undo RUN_ID restores each workload template exactly (its pods roll back); or kubectl rollout undo deployment/NAME. For Helm, Argo CD and Flux workloads change the source (chart values, Git) too.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const messages: string[] = [];
    let ok = true;
    for (const r of await readBack(ctx.reader, applied, ctx.signal)) {
      const { ref } = r;
      if (!ref.namespace) continue;
      if (!r.live || !templateOf(ref.kind as WorkloadKind, r.live)) {
        ok = false;
        messages.push(`${ref.kind} ${ref.namespace}/${ref.name}: could not be read back`);
      } else if (!templateKept(r)) {
        ok = false;
        messages.push(
          `${ref.kind} ${ref.namespace}/${ref.name}: the fix is no longer in its template (reverted?)`,
        );
      }
    }
    // Pods the API server refused since the fix (e.g. an enforce label applied meanwhile).
    const events = await failedCreateSince(
      ctx.reader,
      applied.flatMap((a) =>
        a.change.target?.namespace ? [{ namespace: a.change.target.namespace, since: a.appliedAt }] : [],
      ),
      ctx.signal,
    );
    ok &&= events.ok;
    messages.push(...events.messages);
    if (ok) {
      messages.push(
        `${applied.length} fix(es) in place, no FailedCreate since; watch the rollout (kubectl rollout status) for containers that do not start (CreateContainerConfigError)`,
      );
    }
    return { ok, messages };
  },
};
