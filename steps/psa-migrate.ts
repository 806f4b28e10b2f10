/**
 * Phase 2, opt-in (`kube-harden migrate -n NS`): fix the workloads that keep a namespace from enforcing its target
 * Pod Security level. For each blocking workload the fix is a server-side apply configuration of its pod template
 * that sets only what the failing checks need and never loosens anything (steps/kit/pod-security-fix.ts); what
 * still fails (hostPath, privileged, …) is named in the change's notes with the next action.
 * `readOnlyRootFilesystem: true` + an `emptyDir` at `/tmp` is a separate, optional change. Workloads whose source of
 * truth is Helm, Argo CD or Flux get their fix exported as a patch, with a note that the source must change too.
 * A bare Pod cannot be fixed in place, nor a Job (`pkg/apis/batch/validation`: a Job's pod template is immutable).
 */

import { contains } from '../src/engine/fields.js';
import type { ObjectRule, ValueRule } from '../src/engine/targets.js';
import type { Change, SettingSpec, Step, StepFinding, Verification } from '../src/engine/types.js';
import { projectPodSpec, securityAnnotations } from '../src/inventory/project.js';
import { inScope } from '../src/inventory/scope.js';
import type { ManagedBy, WorkloadKind } from '../src/inventory/types.js';
import { type Json as J, map } from '../src/k8s/json.js';
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
import { failedCreateSince } from './kit/failed-create.js';
import { finding } from './kit/findings.js';
import { type FixLevel, fixTemplate, type TemplateFix } from './kit/pod-security-fix.js';
import { pinnedVersion } from './kit/psa.js';
import { parseChoice, settingOf } from './kit/settings.js';
import { type PodTemplate, templateOf, templatePath, workloadConfig } from './kit/workloads.js';

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
}

const TOOLS_WITH_SOURCE = new Set(['helm', 'argocd', 'flux']);

function describeWorkload(w: { kind: string; ref: ObjectRef }): string {
  return `${w.kind} ${w.ref.namespace}/${w.ref.name}`;
}

function changeId(w: MigrateWorkload): string {
  return `psa-migrate/${w.kind.toLowerCase()}/${w.ref.namespace}/${w.ref.name}`;
}

/** Why a workload cannot get a fix in place, or undefined when it can. */
function notInPlace(w: MigrateWorkload): string | undefined {
  if (w.kind === 'Pod')
    return 'a bare Pod cannot be changed in place: fix its manifest and re-create it (or run it from a Deployment)';
  if (w.kind === 'Job')
    return "a Job's pod template is immutable: fix its manifest (or the CronJob that creates it) and re-create it";
  if (!w.template)
    return 'its pod template could not be read (only its pods were): fix it at its source, then run migrate again';
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
    const checks = notInPlace(w) || !tf ? w.violations.map((v) => v.check) : tf.remaining.map((r) => r.check);
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
  const kinds: Array<[string, WorkloadKind]> = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'StatefulSet'],
    ['apps/v1', 'DaemonSet'],
    ['apps/v1', 'ReplicaSet'],
    ['v1', 'ReplicationController'],
    ['batch/v1', 'CronJob'],
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
      [`${spec}.securityContext.seccompProfile.type`]: { equals: 'RuntimeDefault' },
      [`${spec}.volumes[].name`]: { matches: /^(tmp|kube-harden-tmp(-\d+)?)$/ },
      [`${spec}.volumes[].emptyDir`]: { equals: {} },
    };
    for (const list of ['initContainers', 'containers'])
      for (const [path, rule] of Object.entries(container)) fields[`${spec}.${list}[].${path}`] = rule;
    return { apiVersion, kind, operations: ['update'], fields };
  });
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
  settings: [TARGET],
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
    const facts: MigrateFacts = { version, namespaces: [] };
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
        };
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
        const why = notInPlace(mw);
        const checks = mw.violations.map((v) => v.check).join(', ');
        let message = `${w.kind} ${w.namespace}/${w.name} blocks ${target} (${checks})`;
        if (why) {
          message += ` — ${why}`;
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
    return { facts, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const ns of facts.namespaces) {
      if (ns.target === 'privileged') continue;
      const level = ns.target as FixLevel;
      for (const w of ns.workloads) {
        if (notInPlace(w)) continue;
        const tf = analyse(w, level, facts);
        if (!tf) continue;
        const source = w.managedBy.find((m) => TOOLS_WITH_SOURCE.has(m.tool));
        const notes = workloadNotes(w, tf, source);
        const exportPatch = source ? { exportPatch: source.detail } : {};
        if (tf.fix) {
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
            reason: `${describeWorkload(w)} fails ${level} (${w.violations.map((v) => v.check).join(', ')}): set ${tf.fixed.join('; ')}. ${outcome} Its pods are replaced with the new template.`,
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
    return changes;
  },

  explain(facts, changes) {
    const fixes = changes.filter((c) => !c.optional).length;
    const optional = changes.length - fixes;
    const targets = facts.namespaces.map((n) => `${n.name} → ${n.target}`).join(', ');
    return {
      why: `A namespace can enforce its target Pod Security level (${targets || 'none in scope'}) only when every workload template passes it; the API server checks only new pods, never templates, so a violating template fails later with FailedCreate. Each fix sets only the securityContext fields the failing checks need and never loosens anything; what cannot be fixed automatically is named with the next action.`,
      impact: `${fixes} workload fix(es)${optional ? ` and ${optional} optional change(s)` : ''}. A changed pod template replaces the workload's pods (rolling update, or as its strategy says). A container whose image runs as root, or as a non-numeric user, does not start under runAsNonRoot (CreateContainerConfigError): read the notes about images first.`,
      rollback:
        'kube-harden undo RUN_ID restores each workload template exactly (its pods roll back); or kubectl rollout undo deployment/NAME. For Helm, Argo CD and Flux workloads change the source (chart values, Git) too.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const messages: string[] = [];
    let ok = true;
    for (const a of applied) {
      const ref = a.change.target;
      if (!ref?.namespace) continue;
      const kind = ref.kind as WorkloadKind;
      const live = (await ctx.reader.get(ref, ctx.signal)).value;
      const t = live ? templateOf(kind, live) : undefined;
      const desired = a.change.desired ? templateOf(kind, a.change.desired) : undefined;
      if (!t || !desired) {
        ok = false;
        messages.push(`${ref.kind} ${ref.namespace}/${ref.name}: could not be read back`);
      } else if (!contains(t, desired)) {
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
