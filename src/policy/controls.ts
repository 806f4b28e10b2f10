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
    'KH-PSS-PRIVILEGED-IN-APP-NS',
    'medium',
    2,
    'Workload that needs Pod Security privileged shares an application namespace',
    'Move it to a namespace of its own (kube-harden plan --step privileged-isolate -n NS), so the others can be enforced.',
  ),
  c(
    'KH-PSA-NO-WARN-AUDIT',
    'low',
    1,
    "Namespace neither warns nor audits at its tier's Pod Security level",
    'Label it with warn and audit at its tier level (kube-harden plan --step psa-warn-audit) and watch the warnings.',
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
    'Fix the blocking workloads (kube-harden migrate -n NS); move those that need privileged to a namespace of their own (--step privileged-isolate).',
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
    2,
    'Container has no resource limits',
    'Set resources.limits (at least memory), or let a LimitRange default them (kube-harden plan --step resource-limits).',
  ),
  c(
    'KH-POD-WRITABLE-ROOTFS',
    'low',
    2,
    'Container root filesystem is writable',
    'Set securityContext.readOnlyRootFilesystem: true, with an emptyDir at /tmp and volumes where the app writes (kube-harden migrate --include-optional sets both).',
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
    'KH-SA-TOKEN-EVIDENCE',
    'info',
    4,
    'Evidence of Kubernetes API use, and the token decision it leads to',
    'Check the evidence; flip a decision in the wizard (phase 4, e: evidence) or with --sa-token-override KIND/NS/NAME=keep|remove, or pass --audit-log FILE for the requests each account made.',
  ),
  c(
    'KH-SA-AUDIT-LOG',
    'low',
    4,
    'Audit log lines that are not audit events were skipped (step finding of `sa-tokens`)',
    'Pass the API server audit log itself (JSON lines, --audit-log-format=json), plain or gzipped; skipped lines are not evidence.',
  ),
  c(
    'KH-SA-LEGACY-TOKEN',
    'medium',
    4,
    'Long-lived ServiceAccount token Secret',
    'Move its users to short-lived tokens (kubectl create token, projected volumes), then delete the Secret; a token used outside the cluster should be requested for its own audience (--audience), so that the API server refuses it.',
  ),
  c(
    'KH-SA-LEGACY-TOKEN-UNKNOWN',
    'medium',
    4,
    'Whether long-lived ServiceAccount token Secrets exist is unknown',
    'Grant list on secrets (the inventory reads their metadata only, never a value), or check for type kubernetes.io/service-account-token by hand; unknown is not compliant.',
    false,
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
    'KH-RBAC-NODES-PROXY',
    'high',
    4,
    'Binding grants nodes/proxy',
    'Remove nodes/proxy: it reaches the kubelet API directly, bypassing audit and admission.',
  ),
  c(
    'KH-RBAC-PODS-EXEC',
    'medium',
    4,
    'Binding grants exec or attach into pods',
    'Limit pods/exec and pods/attach to the people who debug, in the namespaces they own; never to workloads.',
  ),
  c(
    'KH-RBAC-NARROWED',
    'info',
    4,
    'A narrowed role was derived from the requests the subject made (step finding of `rbac-review`)',
    'Review the proposed roles (artifacts/rbac-review/), apply them, soak, then remove the broader bindings by hand.',
  ),
  c(
    'KH-RBAC-UNUSED',
    'low',
    4,
    'A bound subject made no request in the audit log window (step finding of `rbac-review`)',
    'Confirm over a longer window (yearly jobs, failure paths), then remove the binding by hand; kube-harden never deletes one.',
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
    'Image uses a moving tag (latest, main, …) or no tag',
    'Pin the image to a version tag, or better a digest (image@sha256:…).',
  ),
  c(
    'KH-IMAGE-REGISTRY',
    'info',
    5,
    'Registry in use',
    'Review the registries in use; phase 5 restricts images to the trusted ones.',
  ),
  // Phase 6: the API server's own configuration (steps/audit-logging.ts, steps/secrets-encryption.ts).
  c(
    'KH-AUDIT-OFF',
    'high',
    6,
    'API server audit logging is off or has no policy',
    'Generate an audit policy and the flags (kube-harden plan --step audit-logging) and put them in place on every control-plane node.',
  ),
  c(
    'KH-AUDIT-NOT-SHIPPED',
    'medium',
    6,
    'The audit log stays on the control-plane node',
    'Ship it off the node (the Fluent Bit snippet of the audit-logging step, or --audit-webhook-config-file): an attacker with the node can edit a local log.',
  ),
  c(
    'KH-AUDIT-ROTATION',
    'low',
    6,
    'The audit log has no age or count limit',
    'Set --audit-log-maxage, --audit-log-maxbackup and --audit-log-maxsize (before 1.36 they default to unlimited).',
  ),
  c(
    'KH-AUDIT-UNKNOWN',
    'high',
    6,
    'Whether the API server writes an audit log is unknown',
    "Check the API server's flags on the control-plane nodes, or the managed provider's audit-log setting; unknown is not compliant.",
    false,
  ),
  c(
    'KH-ENCRYPTION-OFF',
    'high',
    6,
    'Secrets are stored unencrypted in etcd',
    'Generate an EncryptionConfiguration (kube-harden plan --step secrets-encryption), put it in place, then rewrite every Secret.',
  ),
  c(
    'KH-ENCRYPTION-IDENTITY-FIRST',
    'high',
    6,
    'Encryption at rest writes Secrets in plaintext (identity or no real provider first)',
    'Put an encrypting provider (KMS v2, secretbox or aesgcm) first and identity last, restart the API servers, rewrite every Secret.',
  ),
  c(
    'KH-ENCRYPTION-UNKNOWN',
    'high',
    6,
    'Whether Secrets are encrypted at rest is unknown',
    "Check --encryption-provider-config on the control-plane nodes, or the managed provider's envelope-encryption setting; unknown is not compliant.",
    false,
  ),
  c(
    'KH-APISERVER-PUBLIC',
    'high',
    6,
    'The API server is reachable on a public address',
    'Restrict the endpoint (private endpoint, authorized networks, firewall) to the networks that need it.',
  ),
  c(
    'KH-APISERVER-ANONYMOUS',
    'low',
    6,
    'The API server accepts anonymous requests',
    'Set --anonymous-auth=false, or since 1.32 an AuthenticationConfiguration that allows anonymous access only to health endpoints.',
  ),
  c(
    'KH-APISERVER-PROFILING',
    'low',
    6,
    'The API server serves profiling endpoints',
    'Set --profiling=false.',
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
    'KH-IMAGE-NOT-PINNED',
    'info',
    5,
    'Image is not pinned by digest',
    'Use image@sha256:… (resolve the tag with `crane digest IMAGE`): a signature is checked for a digest, and a tag can be moved to another image.',
  ),
  c(
    'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED',
    'medium',
    5,
    'Trusted registries cannot be enforced yet',
    'Fix or allow the images listed, then plan registries-enforce again.',
  ),
  c(
    'KH-IMAGE-REGISTRY-SOAKING',
    'info',
    5,
    'Trusted registries are warning, not yet denying (soak period)',
    'Watch the warnings of real traffic (the audit log, kubectl output, CI); registries-enforce is proposed once the soak has passed (--registries-soak DAYS; 0 to enforce as soon as the API server agrees).',
    false,
  ),
  c(
    'KH-EXCEPTION-EXPIRED',
    'medium',
    7,
    'Exception has expired',
    'Fix what it covered, or renew it with a new expiry date and a reason; an expired exception covers nothing.',
    false,
  ),
  // Found by the exceptions review (steps/exceptions-review.ts, phase 7).
  c(
    'KH-EXCEPTION-EXPIRING',
    'low',
    7,
    'Exception expires soon',
    'Fix what it covers before it expires, or renew it with its owner (a new expiry date and a reason).',
    false,
  ),
  c(
    'KH-EXCEPTION-UNUSED',
    'low',
    7,
    'Exception covers nothing',
    'Remove it from the register: what it waived is gone or fixed, and a stale waiver hides the next one.',
    false,
  ),
  c(
    'KH-EXCEPTION-NO-OWNER',
    'medium',
    7,
    'Exception has no real owner',
    'Name the team or person who answers for it (not "TBD", "none" or "unknown").',
    false,
  ),
  c(
    'KH-PSA-EXEMPT-PRIVILEGED',
    'medium',
    7,
    "Namespace is left at Pod Security privileged below its tier's target",
    'Fix or move its privileged workloads and enforce its tier level (phase 2); a privileged namespace is an exemption, not a state.',
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

/**
 * The rollout steps (steps/index.ts ids) that act on each control: they propose the change or the manual artifact
 * that fixes it, or (phase 7) review it. `[]`: the control's phase reports it, but the change is made by hand (the
 * next step says how); a control without a phase has no entry. Kept here rather than on the steps, so that the
 * catalog reads as the checklist (docs/controls.md, `npm run docs:controls`); test/unit/policy/controls.test.ts
 * checks every ID and step against the catalog and the registry. A new control with a phase needs a line here.
 */
const FIXED_BY: Readonly<Record<string, readonly string[]>> = {
  'KH-UNKNOWN': [],
  'KH-PSS-BASELINE': ['psa-migrate'],
  'KH-PSS-RESTRICTED': ['psa-migrate'],
  'KH-PSS-PRIVILEGED-IN-APP-NS': ['privileged-isolate'],
  'KH-PSA-NO-WARN-AUDIT': ['psa-warn-audit'],
  'KH-PSA-NOT-ENFORCED': ['psa-enforce'],
  'KH-PSA-ENFORCE-BLOCKED': ['psa-migrate', 'privileged-isolate'],
  'KH-PSA-AUDIT-ONLY': ['psa-enforce'],
  'KH-PSA-MIGRATE-BLOCKER': ['psa-migrate'],
  'KH-PSA-MIGRATE-SUMMARY': ['psa-migrate'],
  'KH-NS-UNDECLARED': [],
  'KH-PSA-INVALID-LABEL': ['psa-warn-audit', 'psa-enforce'],
  'KH-POD-ROOT': ['psa-migrate'],
  'KH-POD-NO-LIMITS': ['resource-limits'],
  'KH-POD-WRITABLE-ROOTFS': ['psa-migrate'],
  'KH-SA-TOKEN-AUTOMOUNT': ['sa-tokens'],
  'KH-SA-DEFAULT': ['sa-dedicated'],
  'KH-SA-TOKEN-EVIDENCE': ['sa-tokens'],
  'KH-SA-AUDIT-LOG': ['sa-tokens'],
  'KH-SA-LEGACY-TOKEN': ['rbac-review'],
  'KH-SA-LEGACY-TOKEN-UNKNOWN': ['rbac-review'],
  'KH-RBAC-CLUSTER-ADMIN': ['rbac-review'],
  'KH-RBAC-WILDCARD': ['rbac-review'],
  'KH-RBAC-SECRETS-READ': ['rbac-review'],
  'KH-RBAC-ESCALATE': ['rbac-review'],
  'KH-RBAC-BIND': ['rbac-review'],
  'KH-RBAC-IMPERSONATE': ['rbac-review'],
  'KH-RBAC-NODES-PROXY': ['rbac-review'],
  'KH-RBAC-PODS-EXEC': ['rbac-review'],
  'KH-RBAC-NARROWED': ['rbac-review'],
  'KH-RBAC-UNUSED': ['rbac-review'],
  'KH-NET-NO-DEFAULT-DENY-INGRESS': ['network-default-deny'],
  'KH-NET-NO-DEFAULT-DENY-EGRESS': ['network-default-deny'],
  'KH-NET-NO-DNS-EGRESS': ['network-default-deny'],
  'KH-IMAGE-REGISTRY': ['registries-warn'],
  'KH-IMAGE-NOT-PINNED': ['registries-signatures'],
  'KH-AUDIT-OFF': ['audit-logging'],
  'KH-AUDIT-NOT-SHIPPED': ['audit-logging'],
  'KH-AUDIT-ROTATION': ['audit-logging'],
  'KH-AUDIT-UNKNOWN': ['audit-logging'],
  'KH-ENCRYPTION-OFF': ['secrets-encryption'],
  'KH-ENCRYPTION-IDENTITY-FIRST': ['secrets-encryption'],
  'KH-ENCRYPTION-UNKNOWN': ['secrets-encryption'],
  'KH-APISERVER-PUBLIC': [],
  'KH-APISERVER-ANONYMOUS': [],
  'KH-APISERVER-PROFILING': [],
  'KH-IMAGE-REGISTRY-UNRESTRICTED': ['registries-warn', 'registries-enforce'],
  'KH-IMAGE-UNTRUSTED-REGISTRY': ['registries-warn', 'registries-enforce'],
  'KH-IMAGE-REGISTRY-ENFORCE-BLOCKED': ['registries-enforce'],
  'KH-IMAGE-REGISTRY-SOAKING': ['registries-enforce'],
  'KH-EXCEPTION-EXPIRED': ['exceptions-review'],
  'KH-EXCEPTION-EXPIRING': ['exceptions-review'],
  'KH-EXCEPTION-UNUSED': ['exceptions-review'],
  'KH-EXCEPTION-NO-OWNER': ['exceptions-review'],
  'KH-PSA-EXEMPT-PRIVILEGED': ['exceptions-review'],
};

/**
 * The steps that act on a control (see FIXED_BY): `[]` when its phase reports it and the change is by hand or the
 * control has no phase; `undefined` for a control with a phase that nobody mapped (a gap the tests catch).
 */
export function stepsFixing(id: string): readonly string[] | undefined {
  const ctl = control(id);
  if (ctl.phase === null) return [];
  return FIXED_BY[id];
}

/** The IDs FIXED_BY names (for its consistency test). */
export const MAPPED_CONTROL_IDS: readonly string[] = Object.keys(FIXED_BY);
