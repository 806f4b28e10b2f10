/**
 * Phase 2: enforce Pod Security by namespace tier, with pinned versions. A namespace is only proposed a level
 * that every pod AND every workload template passes under our evaluator (the API server never enforces on
 * templates: a Deployment scaled to zero or a CronJob between runs is invisible to its own check), and that the
 * API server's own dry-run of the label change does not object to (it checks at most 3,000 existing pods in 1 s:
 * pod-security-admission admission.go defaultNamespaceMaxPodsToCheck/defaultNamespacePodCheckTimeout).
 * PSA cannot exempt one workload in an enforced namespace, so exceptions do not lift a namespace's level.
 */

import type { Change, SettingSpec, Step, StepFinding, Verification } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import { Kinds } from '../src/k8s/kinds.js';
import type { NamespacePosture } from '../src/policy/assess.js';
import { compareLevels, type Level } from '../src/policy/pss/index.js';
import { ENFORCED_AT } from './kit/annotations.js';
import { failedCreateSince } from './kit/failed-create.js';
import { finding } from './kit/findings.js';
import { dryRunEnforce, pinnedVersion, psaNamespaceTargets, SERVER_VIOLATION } from './kit/psa.js';
import { auditOnlyTooLong } from './kit/psa-age.js';
import { parseDays, settingOf } from './kit/settings.js';
import { renderObjectTemplate } from './kit/templates.js';

/** How long warn/audit without enforce may last before it is a finding (KH-PSA-AUDIT-ONLY). */
export const STALE_AFTER: SettingSpec<number> = {
  key: 'psa-enforce.staleAfterDays',
  flag: 'audit-only-max-age',
  type: 'DAYS',
  description: 'flag namespaces that have had warn/audit without enforce for longer than this',
  default: '30d',
  parse: parseDays,
};

interface Blocking {
  kind: string;
  name: string;
  checks: string[];
  exceptedBy?: string[];
}

interface EnforcePlan {
  name: string;
  tier: NamespacePosture['tier'];
  target: Level;
  current: Level | null;
  /** The level to enforce, or null when nothing can or needs to change. */
  proposed: Level | null;
  version: string;
  /** Workloads that fail the target level (with the exceptions that cover them, if any). */
  blocking: Blocking[];
  /** What the API server said about today's pods for the proposed level. */
  server: string[];
  why: string;
}

export interface EnforceFacts {
  version: string;
  namespaces: EnforcePlan[];
}

export const psaEnforce: Step<EnforceFacts> = {
  id: 'psa-enforce',
  phase: 2,
  title: 'Pod Security enforce by tier',
  summary:
    'enforce restricted on application namespaces and baseline on infrastructure, where every pod and template passes',
  risk: 'disruptive',
  needs: ['psa-warn-audit'],
  settings: [STALE_AFTER],
  targets: psaNamespaceTargets(['enforce'], [ENFORCED_AT]),

  permissions(options, snapshot) {
    return snapshot.namespaces.some((n) => inScope(options, n.name))
      ? [
          { verb: 'patch', group: '', resource: 'namespaces' },
          { verb: 'list', group: '', resource: 'events' },
        ]
      : [];
  },

  async detect(ctx) {
    const { assessment, snapshot, options, reader } = ctx;
    const version = pinnedVersion(options.psaVersion, snapshot.serverVersion);
    const staleAfterDays = settingOf(STALE_AFTER, options) as number;
    const findings: StepFinding[] = [];
    const plans: EnforcePlan[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name) || posture.tier === 'system' || posture.terminating) continue;
      const target = posture.targetLevel;
      if (target === 'privileged') continue;
      const nsTarget = { kind: 'Namespace', name: posture.name };
      if (posture.unreadable || !posture.psa || posture.strictestWithoutExceptions === 'unknown') {
        findings.push(
          finding(
            'KH-UNKNOWN',
            nsTarget,
            `namespace ${posture.name}: its workloads or labels could not all be read, so no enforce level is proposed (unknown is not compliant)`,
          ),
        );
        continue;
      }
      if (posture.synthesized) continue;
      const current = posture.psa.enforce && !posture.psa.enforce.invalid ? posture.psa.enforce.level : null;
      const passing = posture.strictestWithoutExceptions;
      let proposed: Level = compareLevels(passing, target) < 0 ? passing : target;
      const blocking: Blocking[] = assessment.workloads
        .filter((w) => w.namespace === posture.name && !w.pss[target as 'baseline' | 'restricted'].allowed)
        .map((w) => {
          const checks = w.pss[target as 'baseline' | 'restricted'].violations.map((v) => v.check);
          const exceptedBy = [
            ...new Set(
              assessment.findings
                .filter(
                  (f) =>
                    f.excepted &&
                    f.target.namespace === w.namespace &&
                    f.target.name === w.name &&
                    f.target.kind === w.kind,
                )
                .flatMap((f) => f.exceptedBy ?? []),
            ),
          ].sort();
          return { kind: w.kind, name: w.name, checks, ...(exceptedBy.length ? { exceptedBy } : {}) };
        });
      const why =
        proposed === target
          ? `every pod and workload template passes ${target}`
          : `${target} is blocked by ${blocking.length} workload(s); ${proposed} is the strictest level that every pod and template passes`;
      const plan: EnforcePlan = {
        name: posture.name,
        tier: posture.tier,
        target,
        current,
        proposed: null,
        version,
        blocking,
        server: [],
        why,
      };
      if (proposed === 'privileged') {
        plan.why = `even baseline is blocked: ${blocking.map((b) => `${b.kind} ${b.name} (${b.checks.join(', ')})`).join('; ')}`;
      } else if (current && compareLevels(current, proposed) >= 0) {
        plan.why = `already enforces ${current}${compareLevels(current, proposed) > 0 ? ' (stricter; never loosened)' : ''}`;
      } else if (reader.capabilities.dryRun) {
        // The API server's own check of existing pods: any violation it reports blocks this level.
        for (const level of proposed === 'restricted'
          ? (['restricted', 'baseline'] as Level[])
          : [proposed]) {
          try {
            const warnings = await dryRunEnforce(reader, posture.name, level, version, ctx.signal);
            plan.server = warnings;
            if (!warnings.some((w) => SERVER_VIOLATION.test(w))) {
              proposed = level;
              plan.proposed = level;
              break;
            }
            plan.why = `the API server reports existing pods that violate ${level}: ${warnings.join(' | ')}`;
          } catch (error) {
            plan.why = `the API server's check could not run: ${(error as Error).message}`;
            break;
          }
        }
        if (plan.proposed && current && compareLevels(current, plan.proposed) >= 0) plan.proposed = null;
      } else {
        plan.proposed = proposed;
      }
      if (plan.proposed && plan.proposed !== target) {
        plan.why = `${target} is blocked; proposing ${plan.proposed}, the strictest level that passes`;
      }
      plans.push(plan);
      if (plan.proposed !== target && blocking.length > 0) {
        const excepted = blocking.filter((b) => b.exceptedBy);
        findings.push(
          finding(
            'KH-PSA-ENFORCE-BLOCKED',
            nsTarget,
            `namespace ${posture.name} cannot enforce ${target}: ${blocking.map((b) => `${b.kind} ${b.name} (${b.checks.join(', ')})`).join('; ')}${
              excepted.length
                ? ` — ${excepted.map((b) => `${b.kind} ${b.name}`).join(', ')} ${excepted.length === 1 ? 'is' : 'are'} excepted, but PSA cannot exempt a single workload: move ${excepted.length === 1 ? 'it' : 'them'} to a namespace of ${excepted.length === 1 ? 'its' : 'their'} own to enforce ${target} here`
                : ''
            }`,
          ),
        );
      }
      // Warn/audit without enforce for too long: audit mode is a step, not a destination.
      const info = snapshot.namespaces.find((n) => n.name === posture.name);
      const stale = auditOnlyTooLong(posture, info, options.now, staleAfterDays);
      if (stale) findings.push(finding('KH-PSA-AUDIT-ONLY', nsTarget, stale));
    }
    return { facts: { version, namespaces: plans }, findings };
  },

  propose(facts, options) {
    const changes: Change[] = [];
    const today = options.now.toISOString().slice(0, 10);
    for (const p of facts.namespaces) {
      if (!p.proposed) continue;
      const notes: string[] = [];
      if (p.proposed !== p.target) {
        notes.push(
          `target ${p.target} is blocked by: ${p.blocking.map((b) => `${b.kind} ${b.name} (${b.checks.join(', ')})`).join('; ')}`,
        );
        const excepted = p.blocking.filter((b) => b.exceptedBy);
        if (excepted.length) {
          notes.push(
            `PSA cannot exempt one workload in an enforced namespace: move ${excepted.map((b) => `${b.kind} ${b.name} (exception ${b.exceptedBy?.join(', ')})`).join(', ')} to its own namespace to enforce ${p.target} here`,
          );
        }
      }
      changes.push({
        kind: 'apply',
        id: `psa-enforce/namespace/${p.name}`,
        target: { apiVersion: Kinds.Namespace.apiVersion, kind: 'Namespace', name: p.name },
        desired: renderObjectTemplate('psa/namespace-enforce.yaml', {
          name: p.name,
          level: p.proposed,
          version: p.version,
          enforcedAt: today,
        }),
        risk: 'disruptive',
        reason: `${p.tier} namespace: enforce ${p.proposed}:${p.version} — ${p.why}. New pods that violate it will be rejected.`,
        notes,
      });
    }
    return changes;
  },

  explain(facts, changes) {
    const blocked = facts.namespaces.filter((n) => n.proposed !== n.target && !n.current);
    return {
      why: `Enforce mode rejects pods that violate the level. It is proposed only where every pod and workload template passes under kube-harden's evaluator and the API server's own dry-run agrees, with the version pinned to ${facts.version}.`,
      impact: `${changes.length} namespace(s) start rejecting violating pods. Running pods are not evicted, but a violating pod that restarts elsewhere or a new ReplicaSet will fail to create pods (FailedCreate).${blocked.length ? ` ${blocked.length} namespace(s) stay below their target until their workloads are fixed (see kube-harden migrate -n NS).` : ''}`,
      rollback:
        'kube-harden undo RUN_ID restores the previous enforce labels exactly; after enforcing, kube-harden checks for FailedCreate events and offers undo.',
    };
  },

  async verify(ctx, applied): Promise<Verification> {
    const changed = applied.filter((a) => a.change.kind === 'apply' && a.change.target);
    const { ok, messages } = await failedCreateSince(
      ctx.reader,
      changed.map((a) => ({
        namespace: a.change.target?.name as string,
        since: a.appliedAt,
        match: /violates PodSecurity/,
      })),
      ctx.signal,
    );
    if (ok)
      messages.push(`no FailedCreate for PodSecurity in ${changed.length} namespace(s) since the change`);
    return { ok, messages };
  },
};
