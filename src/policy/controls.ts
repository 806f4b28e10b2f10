/**
 * The control catalog: every finding kube-harden reports carries one of these IDs. IDs are a stable contract
 * (reports, SARIF rules, the exceptions register): never rename one, add a new one instead.
 */
import { DEFAULT_CHECKS } from './pss/index.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Most severe first. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export interface Control {
  /** `KH-<AREA>-<NAME>`. */
  id: string;
  title: string;
  severity: Severity;
  /** The rollout phase that fixes it (DESIGN.md); `null`: no phase changes it, the owner must. */
  phase: number | null;
  /** One line: what to do next. */
  nextStep: string;
  /** Whether the exceptions register may cover it. Unknowns and expired exceptions never can. */
  exceptable: boolean;
}

const c = (
  id: string,
  severity: Severity,
  phase: number | null,
  title: string,
  nextStep: string,
  exceptable = true,
): Control => Object.freeze({ id, title, severity, phase, nextStep, exceptable });

const CATALOG: readonly Control[] = [
  c(
    'KH-UNKNOWN',
    'high',
    0,
    'Could not read part of the cluster',
    'Grant read access (list) to the resources named, or run with a user who has it; unknown is never compliant.',
    false,
  ),
  c(
    'KH-PSS-BASELINE',
    'high',
    2,
    'Workload violates Pod Security baseline',
    'Remove host namespaces, hostPath, hostPorts, privileged mode and added capabilities, or record an exception.',
  ),
  c(
    'KH-PSS-RESTRICTED',
    'medium',
    2,
    'Workload violates Pod Security restricted',
    'Set runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation=false and drop ALL capabilities.',
  ),
  c(
    'KH-PSA-NOT-ENFORCED',
    'medium',
    2,
    "Namespace enforces a weaker Pod Security level than its tier's target",
    'Label the namespace with warn/audit first (phase 1), then enforce its tier level (phase 2).',
  ),
  // Found by the rollout steps while planning (steps/psa-enforce.ts, steps/psa-migrate.ts, steps/psa-warn-audit.ts).
  c(
    'KH-PSA-ENFORCE-BLOCKED',
    'medium',
    2,
    "Namespace cannot enforce its tier's Pod Security level yet",
    'Fix the blocking workloads (kube-harden migrate -n NS) or move excepted ones to a namespace of their own.',
  ),
  c(
    'KH-PSA-AUDIT-ONLY',
    'medium',
    2,
    'Namespace has had warn/audit without enforce for too long',
    'Enforce the level (phase 2) once warnings are clean; audit mode is a step, not a destination.',
  ),
  c(
    'KH-PSA-MIGRATE-BLOCKER',
    'medium',
    2,
    'Workload blocks its namespace from the target Pod Security level',
    'Apply the proposed fix (kube-harden migrate -n NS), and change the workload at its source.',
  ),
  c(
    'KH-PSA-MIGRATE-SUMMARY',
    'info',
    2,
    'Pod Security migration status of a namespace',
    'Review the fixes, apply them, then enforce (kube-harden plan --step psa-enforce -n NS).',
  ),
  c(
    'KH-NS-UNDECLARED',
    'info',
    1,
    'Namespace is used by manifests but not declared',
    'Add a Namespace object to the manifests, so that its labels can be managed.',
  ),
  c(
    'KH-PSA-INVALID-LABEL',
    'medium',
    1,
    'Namespace has an invalid Pod Security label',
    'Fix the label value: levels privileged|baseline|restricted, versions latest|v1.N.',
  ),
  c(
    'KH-POD-ROOT',
    'medium',
    2,
    'Container may run as root',
    'Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser the image supports.',
  ),
  c(
    'KH-POD-NO-LIMITS',
    'low',
    null,
    'Container has no resource limits',
    'Set resources.limits (at least memory) so one container cannot starve its node.',
  ),
  c(
    'KH-SA-TOKEN-AUTOMOUNT',
    'medium',
    4,
    'Workload mounts a ServiceAccount token',
    'Set automountServiceAccountToken: false on the pod template unless the workload calls the Kubernetes API.',
  ),
  c(
    'KH-SA-DEFAULT',
    'low',
    4,
    'Workload runs as the default ServiceAccount',
    'Give the workload its own ServiceAccount, so permissions granted to it are not shared.',
  ),
  c(
    'KH-RBAC-CLUSTER-ADMIN',
    'critical',
    4,
    'Binding grants cluster-admin (or an equivalent */*/* role)',
    'Replace the binding with a role that grants only what the subject needs; remove "temporary" admin bindings.',
  ),
  c(
    'KH-RBAC-WILDCARD',
    'high',
    4,
    'Role has a wildcard (*) rule',
    'List the API groups, resources and verbs the role needs instead of "*".',
  ),
  c(
    'KH-RBAC-SECRETS-READ',
    'high',
    4,
    'Binding grants read access to Secrets',
    'Limit get/list/watch on secrets to named Secrets (resourceNames) in the namespaces that need them.',
  ),
  c(
    'KH-RBAC-ESCALATE',
    'high',
    4,
    'Binding grants escalate on roles',
    'Remove the escalate verb: it allows writing roles with permissions the subject does not hold.',
  ),
  c(
    'KH-RBAC-BIND',
    'high',
    4,
    'Binding grants bind on roles',
    'Remove the bind verb, or limit it with resourceNames to the roles the subject may hand out.',
  ),
  c(
    'KH-RBAC-IMPERSONATE',
    'high',
    4,
    'Binding grants impersonate',
    'Remove impersonate, or limit it with resourceNames to specific users, groups or ServiceAccounts.',
  ),
  c(
    'KH-NET-NO-DEFAULT-DENY-INGRESS',
    'medium',
    3,
    'Namespace has no default-deny ingress NetworkPolicy',
    'Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress], then allow the traffic each app needs.',
  ),
  c(
    'KH-NET-NO-DEFAULT-DENY-EGRESS',
    'medium',
    3,
    'Namespace has no default-deny egress NetworkPolicy',
    'Add a NetworkPolicy with podSelector: {} and policyTypes [Egress], plus a DNS egress allow policy.',
  ),
  c(
    'KH-NET-NO-DNS-EGRESS',
    'low',
    3,
    'Egress is denied but DNS egress is not allowed',
    'Allow egress to the cluster DNS pods on UDP and TCP 53, or name resolution fails in the namespace.',
  ),
  c(
    'KH-NET-CNI-NO-NETPOL',
    'high',
    null,
    'The CNI does not enforce NetworkPolicy',
    'Install a NetworkPolicy-capable CNI (or its policy add-on); until then NetworkPolicies have no effect.',
  ),
  c(
    'KH-NET-CNI-UNKNOWN',
    'medium',
    null,
    'Whether NetworkPolicy is enforced is unknown',
    'Check which CNI the cluster runs and whether it enforces NetworkPolicy; the API cannot show it.',
  ),
  c('KH-NET-CNI', 'info', null, 'The CNI enforces NetworkPolicy', 'No action: NetworkPolicies take effect.'),
  c(
    'KH-IMAGE-LATEST',
    'medium',
    null,
    'Image uses the latest tag or no tag',
    'Pin the image to a version tag, or better a digest (image@sha256:…).',
  ),
  c(
    'KH-IMAGE-REGISTRY',
    'info',
    5,
    'Registry in use',
    'Review the registries in use; phase 5 restricts images to the trusted ones.',
  ),
  c(
    'KH-IMAGE-REGISTRY-UNRESTRICTED',
    'medium',
    5,
    'No admission control restricts image registries',
    'Apply registries-warn (warn on images outside the allow-list), then registries-enforce (deny them).',
  ),
  c(
    'KH-IMAGE-UNTRUSTED-REGISTRY',
    'medium',
    5,
    'Image from a registry outside the allow-list',
    'Move the image to an allowed registry, or allow its registry with --allow-registry HOST[/PATH].',
  ),
  c(
    'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
    'medium',
    5,
    'Trusted registries cannot be enforced yet',
    'Fix or allow the images listed, then plan registries-enforce again.',
  ),
  c(
    'KH-EXCEPTION-EXPIRED',
    'medium',
    7,
    'Exception has expired',
    'Fix what it covered, or renew it with a new expiry date and a reason; an expired exception covers nothing.',
    false,
  ),
];

/** The catalog, in its documented order. */
export const CONTROLS: readonly Control[] = Object.freeze(CATALOG);

const byId: ReadonlyMap<string, Control> = new Map(CONTROLS.map((ctl) => [ctl.id, ctl]));

/** The control with this ID; throws for an unknown ID (a bug: controls are referenced by constants). */
export function control(id: string): Control {
  const found = byId.get(id);
  if (!found) throw new Error(`unknown control ${id}`);
  return found;
}

export function isControlId(id: string): boolean {
  return byId.has(id);
}

/** Upstream Pod Security check IDs (`runAsNonRoot`, …) and their level. */
export const PSS_CHECKS: ReadonlyMap<string, 'baseline' | 'restricted'> = new Map(
  DEFAULT_CHECKS.map((check) => [check.id, check.level]),
);

export function isPssCheckId(id: string): boolean {
  return PSS_CHECKS.has(id);
}

/** Rank for sorting: 0 = critical. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
