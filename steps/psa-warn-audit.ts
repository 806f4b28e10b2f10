/**
 * Phase 1: Pod Security Admission warn + audit first (kubernetes.io "Enforce Pod Security Standards with
 * namespace labels": audit and warn before enforcing). Application namespaces get `restricted`, infrastructure
 * `baseline`, system nothing; versions are pinned. An existing stricter label is never loosened.
 */

import type { Change, Step, StepFinding, StepOptions } from '../src/engine/types.js';
import { inScope } from '../src/inventory/scope.js';
import { Kinds } from '../src/k8s/kinds.js';
import type { NamespacePosture } from '../src/policy/assess.js';
import { compareLevels, type Level } from '../src/policy/pss/index.js';
import { WARN_AUDIT_SINCE } from './kit/annotations.js';
import { finding } from './kit/findings.js';
import {
  dryRunEnforce,
  levelLabel,
  type PsaMode,
  pinnedVersion,
  psaNamespaceTargets,
  stricter,
  versionLabel,
} from './kit/psa.js';
import { renderObjectTemplate } from './kit/templates.js';

interface NamespacePlan {
  name: string;
  tier: NamespacePosture['tier'];
  /** Labels to own (the full warn/audit set), or undefined when nothing needs changing. */
  labels?: Record<string, string>;
  since: string;
  keep: string[];
  /** What the API server says if this level were enforced today (dry-run), for the operator's information. */
  serverPreview: string[];
}

export interface WarnAuditFacts {
  version: string;
  namespaces: NamespacePlan[];
}

function desiredMode(
  mode: PsaMode,
  posture: NamespacePosture,
  target: Level,
  version: string,
  keep: string[],
): { level: Level; version: string } {
  const current = posture.psa?.[mode];
  if (current && !current.invalid && compareLevels(current.level, target) > 0) {
    keep.push(`${mode}=${current.level} is stricter than the ${posture.tier} target ${target}: kept`);
    return { level: current.level, version: current.version };
  }
  const level = current && !current.invalid ? stricter(current.level, target) : target;
  // Keep an explicitly pinned version at the same level; pin `latest` or a missing version.
  const keepVersion = current && !current.invalid && current.level === level && current.version !== 'latest';
  return { level, version: keepVersion ? current.version : version };
}

export const psaWarnAudit: Step<WarnAuditFacts> = {
  id: 'psa-warn-audit',
  phase: 1,
  title: 'Pod Security warn + audit',
  summary:
    'label namespaces to warn and audit at their tier target (restricted for applications, baseline for infrastructure)',
  risk: 'low',
  targets: psaNamespaceTargets(['warn', 'audit'], [WARN_AUDIT_SINCE]),

  permissions(options, snapshot) {
    const names = snapshot.namespaces.map((n) => n.name).filter((n) => inScope(options, n));
    return names.length ? [{ verb: 'patch', group: '', resource: 'namespaces' }] : [];
  },

  async detect(ctx) {
    const { assessment, snapshot, options, reader } = ctx;
    const version = pinnedVersion(options.psaVersion, snapshot.serverVersion);
    const today = options.now.toISOString().slice(0, 10);
    const findings: StepFinding[] = [];
    const namespaces: NamespacePlan[] = [];
    for (const posture of assessment.namespaces) {
      if (!inScope(options, posture.name)) continue;
      const target = posture.targetLevel;
      if (posture.tier === 'system' || target === 'privileged') continue;
      if (posture.unreadable || !posture.psa) {
        findings.push(
          finding(
            'KH-UNKNOWN',
            { kind: 'Namespace', name: posture.name },
            `namespace ${posture.name} could not be read: its Pod Security labels are unknown`,
          ),
        );
        continue;
      }
      if (posture.terminating) continue;
      if (posture.synthesized) {
        findings.push(
          finding(
            'KH-NS-UNDECLARED',
            { kind: 'Namespace', name: posture.name },
            `namespace ${posture.name} is not declared in the manifests: add a Namespace object to manage its labels`,
          ),
        );
        continue;
      }
      const keep: string[] = [];
      const warn = desiredMode('warn', posture, target, version, keep);
      const audit = desiredMode('audit', posture, target, version, keep);
      const labels = {
        [levelLabel('warn')]: warn.level,
        [versionLabel('warn')]: warn.version,
        [levelLabel('audit')]: audit.level,
        [versionLabel('audit')]: audit.version,
      };
      const nsInfo = snapshot.namespaces.find((n) => n.name === posture.name);
      const current = nsInfo?.labels ?? {};
      const changed = Object.entries(labels).some(([k, v]) => current[k] !== v);
      const since = nsInfo?.annotations[WARN_AUDIT_SINCE] ?? today;
      const plan: NamespacePlan = { name: posture.name, tier: posture.tier, since, keep, serverPreview: [] };
      if (changed) plan.labels = labels;
      namespaces.push(plan);
    }
    // Ask the API server what enforcing the target would say about today's pods (a dry-run: nothing changes).
    if (reader.capabilities.dryRun) {
      await Promise.all(
        namespaces
          .filter((n) => n.labels)
          .map(async (n) => {
            const level = n.labels?.[levelLabel('warn')] as string;
            const version = n.labels?.[versionLabel('warn')] as string;
            try {
              n.serverPreview = await dryRunEnforce(reader, n.name, level, version, ctx.signal);
            } catch {
              // informational only; the real preview still runs
            }
          }),
      );
    }
    return { facts: { version, namespaces }, findings };
  },

  propose(facts) {
    const changes: Change[] = [];
    for (const n of facts.namespaces) {
      if (!n.labels) continue;
      const notes = [...n.keep];
      if (n.serverPreview.length > 0) {
        notes.push(
          `if this level were enforced today, the API server would say: ${n.serverPreview.join(' | ')}`,
        );
      }
      changes.push({
        kind: 'apply',
        id: `psa-warn-audit/namespace/${n.name}`,
        target: { apiVersion: Kinds.Namespace.apiVersion, kind: 'Namespace', name: n.name },
        desired: renderObjectTemplate('psa/namespace-warn-audit.yaml', {
          name: n.name,
          warnLevel: n.labels[levelLabel('warn')] as string,
          warnVersion: n.labels[versionLabel('warn')] as string,
          auditLevel: n.labels[levelLabel('audit')] as string,
          auditVersion: n.labels[versionLabel('audit')] as string,
          since: n.since,
        }),
        risk: 'low',
        reason: `${n.tier} namespace: warn and audit at ${n.labels[levelLabel('warn')]}:${n.labels[versionLabel('warn')]} (nothing is blocked; violations become warnings and audit annotations)`,
        notes,
      });
    }
    return changes;
  },

  explain(facts, changes) {
    return {
      why: `Warn and audit modes show which workloads would violate the target Pod Security level without blocking anything, so that enforcement (phase 2) surprises no one. Versions are pinned to ${facts.version} so that a Kubernetes upgrade does not change the policy under you.`,
      impact: `${changes.length} namespace(s) get warn/audit labels. Nothing is rejected: clients see "would violate PodSecurity" warnings, and audit events are annotated (only where API-server audit logging is on).`,
      rollback:
        'kube-harden undo RUN_ID removes the labels (or puts back the previous values); or kubectl label ns NAME pod-security.kubernetes.io/warn- pod-security.kubernetes.io/audit-',
    };
  },
};

export type { StepOptions };
