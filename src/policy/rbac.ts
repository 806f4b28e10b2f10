/**
 * RBAC review (k8s-semantics §5; upstream `rbac/v1/types.go`, docs `rbac-good-practices.md`).
 *
 * - KH-RBAC-CLUSTER-ADMIN: a ClusterRoleBinding or RoleBinding whose role is `cluster-admin` or has a rule with
 *   `*` in apiGroups, resources and verbs (no resourceNames), granted to anyone but the `system:masters` group.
 *   A RoleBinding grants it within its namespace (including the namespace object).
 * - KH-RBAC-SECRETS-READ / -ESCALATE / -BIND / -IMPERSONATE: a binding whose role allows get/list/watch on
 *   secrets (rules limited by resourceNames are not counted: that is the recommended least privilege),
 *   `escalate` or `bind` on roles/clusterroles, or `impersonate` on users, groups, serviceaccounts, uids or
 *   userextras. `*` verbs count. Not repeated for bindings already reported as cluster-admin.
 * - KH-RBAC-WILDCARD: a Role/ClusterRole with `*` in its verbs, resources, apiGroups or nonResourceURLs. High when
 *   a wildcard rule reaches core (`""`) or RBAC resources, any group or non-resource URLs; medium over other
 *   built-in groups (`BUILT_IN_API_GROUPS`); low when only over a component's own groups (an operator's CRDs).
 * Upstream defaults (label `kubernetes.io/bootstrapping=rbac-defaults`, reconciled by the API server) are skipped,
 * except that an admin binding is reported for any subject other than `system:masters`.
 */
import type { BindingInfo, PolicyRule, RoleInfo, Subject } from '../inventory/types.js';
import { type Finding, makeFinding, type Target } from './findings.js';

export const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
const MASTERS = 'system:masters';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

const has = (list: readonly string[] | undefined, ...values: string[]): boolean =>
  (list ?? []).some((v) => values.includes(v));

const groupsOf = (rule: PolicyRule): string[] => rule.apiGroups ?? [''];

export function isAdminRule(rule: PolicyRule): boolean {
  return (
    has(rule.verbs, '*') &&
    has(rule.resources, '*') &&
    has(rule.apiGroups, '*') &&
    (rule.resourceNames ?? []).length === 0
  );
}

export function isWildcardRule(rule: PolicyRule): boolean {
  return (
    has(rule.verbs, '*') ||
    has(rule.resources, '*') ||
    has(rule.apiGroups, '*') ||
    has(rule.nonResourceURLs, '*')
  );
}

/**
 * The API groups kube-apiserver itself serves (kube-apiserver 1.36 `/apis`, plus the legacy `extensions`): a
 * wildcard over one of them reaches objects of Kubernetes itself. Groups outside it (CRDs, aggregated APIs such
 * as `metrics.k8s.io`, `gateway.networking.k8s.io`) belong to the components that install them.
 */
export const BUILT_IN_API_GROUPS: readonly string[] = [
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'extensions',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  RBAC_GROUP,
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
];

/**
 * What a wildcard rule reaches: `core` for core (`""`) or RBAC resources, any group (`*`) or non-resource URLs;
 * `built-in` for other groups kube-apiserver serves (apps, batch, …); `own` when every group is a component's own
 * (an operator managing its CRDs).
 */
type WildcardReach = 'core' | 'built-in' | 'own';
const REACH_ORDER: Readonly<Record<WildcardReach, number>> = { core: 0, 'built-in': 1, own: 2 };
const REACH_SEVERITY = { core: 'high', 'built-in': 'medium', own: 'low' } as const;

function wildcardReach(rule: PolicyRule): WildcardReach {
  if (rule.nonResourceURLs) return 'core';
  const groups = groupsOf(rule);
  if (has(groups, '*', '', RBAC_GROUP)) return 'core';
  return groups.some((g) => BUILT_IN_API_GROUPS.includes(g)) ? 'built-in' : 'own';
}

function grantsSecretsRead(rule: PolicyRule): string[] {
  if ((rule.resourceNames ?? []).length > 0) return [];
  if (!has(rule.resources, 'secrets', '*') || !has(groupsOf(rule), '', '*')) return [];
  return has(rule.verbs, '*') ? ['*'] : ['get', 'list', 'watch'].filter((v) => has(rule.verbs, v));
}

function grantsOnRoles(rule: PolicyRule, verb: 'escalate' | 'bind'): boolean {
  return (
    has(rule.verbs, verb, '*') &&
    has(rule.resources, 'roles', 'clusterroles', '*') &&
    has(groupsOf(rule), RBAC_GROUP, '*')
  );
}

function grantsImpersonate(rule: PolicyRule): boolean {
  return (
    has(rule.verbs, 'impersonate', '*') &&
    (rule.resources ?? []).some(
      (r) => ['users', 'groups', 'serviceaccounts', 'uids', '*'].includes(r) || r.startsWith('userextras'),
    ) &&
    has(groupsOf(rule), '', 'authentication.k8s.io', '*')
  );
}

export function describeSubject(s: Subject, bindingNamespace?: string): string {
  if (s.kind === 'ServiceAccount')
    return `ServiceAccount ${s.namespace ?? bindingNamespace ?? '?'}/${s.name}`;
  return `${s.kind} ${s.name}`;
}

function describeRule(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.nonResourceURLs) parts.push(`nonResourceURLs [${rule.nonResourceURLs.join(', ')}]`);
  else {
    parts.push(
      `apiGroups [${groupsOf(rule)
        .map((g) => (g === '' ? '""' : g))
        .join(', ')}]`,
    );
    parts.push(`resources [${(rule.resources ?? []).join(', ')}]`);
  }
  parts.push(`verbs [${rule.verbs.join(', ')}]`);
  return parts.join(' ');
}

const key = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

export interface RbacInput {
  roles: readonly RoleInfo[];
  bindings: readonly BindingInfo[];
}

export function rbacFindings(input: RbacInput): Finding[] {
  const findings: Finding[] = [];
  const roles = new Map<string, RoleInfo>();
  for (const r of input.roles) roles.set(key(r.kind, r.kind === 'Role' ? r.namespace : undefined, r.name), r);

  for (const role of input.roles) {
    if (role.labels[BOOTSTRAP_LABEL] === 'rbac-defaults') continue;
    const wild = role.rules.map((r, i) => ({ r, i })).filter(({ r }) => isWildcardRule(r));
    if (wild.length === 0) continue;
    const target: Target = { kind: role.kind, name: role.name };
    if (role.kind === 'Role' && role.namespace) target.namespace = role.namespace;
    const reach = wild.map(({ r }) => wildcardReach(r)).sort((a, b) => REACH_ORDER[a] - REACH_ORDER[b])[0];
    const finding = makeFinding(
      'KH-RBAC-WILDCARD',
      target,
      `has ${wild.length === 1 ? 'a wildcard rule' : `${wild.length} wildcard rules`}: ${wild
        .map(({ r, i }) => `rule ${i + 1}: ${describeRule(r)}`)
        .join(
          '; ',
        )}${reach === 'own' ? ' (only over its own API groups, not core, RBAC or other built-in ones)' : ''}`,
    );
    finding.severity = REACH_SEVERITY[reach ?? 'core'];
    findings.push(finding);
  }

  for (const b of input.bindings) {
    const subjects = b.subjects.filter((s) => !(s.kind === 'Group' && s.name === MASTERS));
    if (subjects.length === 0) continue;
    const refNs = b.roleRef.kind === 'Role' ? b.namespace : undefined;
    const role = roles.get(key(b.roleRef.kind, refNs, b.roleRef.name));
    const builtinAdmin = b.roleRef.kind === 'ClusterRole' && b.roleRef.name === 'cluster-admin';
    if (!role && !builtinAdmin) continue; // unresolved: missing, or unreadable (reported as unknown)
    const target: Target = { kind: b.kind, name: b.name };
    if (b.kind === 'RoleBinding' && b.namespace) target.namespace = b.namespace;
    const who = subjects.map((s) => describeSubject(s, b.namespace)).join(', ');
    const where = b.kind === 'ClusterRoleBinding' ? 'cluster-wide' : `in namespace ${b.namespace ?? '?'}`;
    const roleName = `${b.roleRef.kind} ${b.roleRef.name}`;

    if (builtinAdmin || role?.rules.some(isAdminRule)) {
      const what = builtinAdmin ? 'cluster-admin' : `full control (${roleName} allows * on */*)`;
      findings.push(makeFinding('KH-RBAC-CLUSTER-ADMIN', target, `grants ${what} ${where} to ${who}`));
      continue;
    }
    if (!role || b.labels[BOOTSTRAP_LABEL] === 'rbac-defaults') continue;

    const secretVerbs = [...new Set(role.rules.flatMap(grantsSecretsRead))];
    if (secretVerbs.length > 0) {
      const verbs = secretVerbs.includes('*') ? '* (all verbs)' : secretVerbs.join(', ');
      findings.push(
        makeFinding(
          'KH-RBAC-SECRETS-READ',
          target,
          `grants ${verbs} on secrets ${where} (${roleName}) to ${who}`,
        ),
      );
    }
    for (const [id, verb, pred] of [
      ['KH-RBAC-ESCALATE', 'escalate', (r: PolicyRule) => grantsOnRoles(r, 'escalate')],
      ['KH-RBAC-BIND', 'bind', (r: PolicyRule) => grantsOnRoles(r, 'bind')],
      ['KH-RBAC-IMPERSONATE', 'impersonate', grantsImpersonate],
    ] as const) {
      const rules = role.rules.filter(pred);
      if (rules.length === 0) continue;
      const names = [...new Set(rules.flatMap((r) => r.resourceNames ?? []))].sort();
      const limited = rules.every((r) => (r.resourceNames ?? []).length > 0)
        ? ` (limited to ${names.join(', ')})`
        : '';
      const on = [...new Set(rules.flatMap((r) => r.resources ?? []))].sort().join(', ');
      findings.push(
        makeFinding(id, target, `grants ${verb} on ${on}${limited} ${where} (${roleName}) to ${who}`),
      );
    }
  }
  return findings;
}

// ---- Phase 4 review additions (rbac-review): node proxy and exec into pods --------------------------------------

function grantsSubresource(rule: PolicyRule, resource: string, verbs: readonly string[]): boolean {
  return (
    has(rule.verbs, ...verbs, '*') &&
    (rule.resources ?? []).some((r) => r === resource || r === '*' || r === `${resource.split('/')[0]}/*`) &&
    has(groupsOf(rule), '', '*')
  );
}

/**
 * - KH-RBAC-NODES-PROXY: a binding whose role allows `nodes/proxy` (get/create/…: the kubelet API, which bypasses
 *   audit and admission — rbac-good-practices).
 * - KH-RBAC-PODS-EXEC: `create` (or get, for WebSocket clients) on `pods/exec` or `pods/attach`.
 * Same scope and exclusions as `rbacFindings` (defaults, `system:masters`, bindings reported as cluster-admin).
 */
export function rbacAccessFindings(input: RbacInput): Finding[] {
  const findings: Finding[] = [];
  const roles = new Map<string, RoleInfo>();
  for (const r of input.roles) roles.set(key(r.kind, r.kind === 'Role' ? r.namespace : undefined, r.name), r);
  for (const b of input.bindings) {
    if (b.labels[BOOTSTRAP_LABEL] === 'rbac-defaults') continue;
    const subjects = b.subjects.filter((s) => !(s.kind === 'Group' && s.name === MASTERS));
    if (subjects.length === 0) continue;
    const role = roles.get(
      key(b.roleRef.kind, b.roleRef.kind === 'Role' ? b.namespace : undefined, b.roleRef.name),
    );
    if (!role || role.rules.some(isAdminRule)) continue;
    const target: Target = { kind: b.kind, name: b.name };
    if (b.kind === 'RoleBinding' && b.namespace) target.namespace = b.namespace;
    const who = subjects.map((s) => describeSubject(s, b.namespace)).join(', ');
    const where = b.kind === 'ClusterRoleBinding' ? 'cluster-wide' : `in namespace ${b.namespace ?? '?'}`;
    const roleName = `${b.roleRef.kind} ${b.roleRef.name}`;
    if (
      role.rules.some((r) =>
        grantsSubresource(r, 'nodes/proxy', ['get', 'create', 'update', 'patch', 'delete']),
      )
    )
      findings.push(
        makeFinding(
          'KH-RBAC-NODES-PROXY',
          target,
          `grants nodes/proxy ${where} (${roleName}) to ${who}: the kubelet API, unaudited`,
        ),
      );
    const exec = ['pods/exec', 'pods/attach'].filter((res) =>
      role.rules.some((r) => grantsSubresource(r, res, ['create', 'get'])),
    );
    if (exec.length)
      findings.push(
        makeFinding(
          'KH-RBAC-PODS-EXEC',
          target,
          `grants ${exec.join(', ')} ${where} (${roleName}) to ${who}`,
        ),
      );
  }
  return findings;
}
