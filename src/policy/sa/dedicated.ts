/**
 * The planner of `sa-dedicated` (phase 4, opt-in; issue 12 step 2): a workload that runs as its namespace's
 * `default` ServiceAccount gets a ServiceAccount of its own, named after it; the bindings of `default` it needs are
 * duplicated for the new account (new objects: the old bindings are never edited or deleted), and its pod template
 * switches to it. Pure: the evidence of API use comes from evidence.ts (never re-derived here), the requests from
 * the audit log summary (audit-log.ts).
 *
 * Which bindings of `default` are duplicated (the rule is named in every decision):
 * - with an audit log: those whose role allows at least one request `default` made in the log (beyond discovery,
 *   which every account may do). The log names the account, not the pod: when several workloads run as `default`,
 *   each keeps every binding the account used. When the log cannot be trusted to hold all of `default`'s requests
 *   (users or operations beyond what kube-harden keeps) every binding is duplicated;
 * - without one: every binding of `default` beyond the upstream/system defaults (evidence.ts `isDefaultBinding`).
 * A binding whose role could not be read (absent from the snapshot) is duplicated: leaving it out could take away
 * what the workload uses. Bindings to groups (`system:serviceaccounts`, …) need no copy: the new account is a
 * member of the same groups.
 *
 * `automountServiceAccountToken` of the new account mirrors the evidence: `false` when evidence.ts finds no API use,
 * `true` otherwise (use, or unknown). The pod template's own setting, when it has one, still wins at admission.
 *
 * Names: the account is the workload's name (both are DNS subdomains); when it is `default`, or two workloads of a
 * namespace have the same name (a Deployment and a CronJob `web`), `<name>-<kind>`. A RoleBinding copy is
 * `<binding>-<account>`, a ClusterRoleBinding copy `<binding>-<namespace>-<account>` (cluster-scoped: the
 * namespace keeps the names apart). A name over 253 characters is cut and ends with a short hash. A name that is
 * taken by an object kube-harden did not make for this workload skips the workload, saying so.
 */
import type { BindingInfo, PolicyRule, RoleInfo, Snapshot, Workload } from '../../inventory/types.js';
import {
  type AuditOperation,
  type AuditSummary,
  requestsText,
  serviceAccountUser,
  windowText,
} from './audit-log.js';
import { bindingsOf, bindingsUnknown, type WorkloadEvidence, workloadEvidence } from './evidence.js';
import { isDiscoveryPath } from './narrow.js';

/** The annotation on an account kube-harden made for a workload: `<Kind>/<name>`. */
export const DEDICATED_FOR_ANNOTATION = 'kube-harden.io/dedicated-for';
/** The annotation on a binding copy: the binding it was copied from (`RoleBinding ns/name`). */
export const COPIED_FROM_ANNOTATION = 'kube-harden.io/copied-from';

export const MAX_NAME = 253;

export interface DedicatedInput {
  snapshot: Pick<Snapshot, 'workloads' | 'bindings' | 'roles' | 'serviceAccounts' | 'unknown'>;
  /** The namespaces to plan (already filtered by scope and tier). */
  namespaces: readonly string[];
  audit?: AuditSummary;
  /**
   * For accounts that exist with a name this plan wants (`accountKeys`): `ns/name` → the value of their
   * `kube-harden.io/dedicated-for` annotation, or null when they have none. An existing account not in the map
   * could not be read: it is not ours.
   */
  accountOwners?: ReadonlyMap<string, string | null>;
}

/** One binding of `default` and what becomes of it for the new account. */
export interface BindingDecision {
  source: BindingInfo;
  /** Duplicated (with the copy's name), or left to `default` only. */
  copy: boolean;
  name: string;
  /** Why, naming the evidence. */
  why: string;
}

export interface DedicatedPlan {
  workload: Workload;
  evidence: WorkloadEvidence;
  /** `sa-dedicated/<kind>/<ns>/<name>`: the id prefix of the group's changes. */
  group: string;
  /** The new ServiceAccount's name (also when skipped: the name it would have). */
  account: string;
  /** The account exists already and kube-harden made it for this workload (a re-run). */
  accountExists: boolean;
  automount: boolean;
  automountWhy: string;
  bindings: BindingDecision[];
  /** Which rule chose the bindings, for people. */
  rule: string;
  /** Seen but not copied: bindings to groups the new account is a member of too. */
  notes: string[];
  choice: 'dedicate' | 'skip';
  /** Why skipped (choice skip), else a one-line summary of the group. */
  why: string;
}

export interface DedicatedNamespace {
  namespace: string;
  workloads: DedicatedPlan[];
}

const KIND_ORDER = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'CronJob',
  'Job',
  'Pod',
];

export function describeWorkload(w: Pick<Workload, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

export function bindingLabel(b: Pick<BindingInfo, 'kind' | 'namespace' | 'name'>): string {
  return b.kind === 'ClusterRoleBinding'
    ? `ClusterRoleBinding ${b.name}`
    : `RoleBinding ${b.namespace}/${b.name}`;
}

function roleLabel(b: BindingInfo): string {
  return b.roleRef.kind === 'Role'
    ? `Role ${b.namespace}/${b.roleRef.name}`
    : `ClusterRole ${b.roleRef.name}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable suffix for names that must be cut. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `parts` joined with `-`, at most MAX_NAME characters (cut, with a hash of the whole, when longer). */
export function joinName(...parts: string[]): string {
  const whole = parts.join('-');
  if (whole.length <= MAX_NAME) return whole;
  const hash = shortHash(whole);
  // Cut at an alphanumeric character: a DNS subdomain ends with one.
  const head = whole.slice(0, MAX_NAME - hash.length - 1).replace(/[^a-z0-9]+$/, '');
  return `${head}-${hash}`;
}

/** The account name each workload of one namespace would get, keyed by `Kind/name`. */
export function accountNames(workloads: readonly Pick<Workload, 'kind' | 'name'>[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const w of workloads) count.set(w.name, (count.get(w.name) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const w of workloads) {
    const clash = w.name === 'default' || (count.get(w.name) ?? 0) > 1;
    out.set(`${w.kind}/${w.name}`, clash ? joinName(w.name, w.kind.toLowerCase()) : joinName(w.name));
  }
  return out;
}

/** The name of the copy of `b` for account `namespace/account`. */
export function copyName(b: Pick<BindingInfo, 'kind' | 'name'>, namespace: string, account: string): string {
  return b.kind === 'ClusterRoleBinding' ? joinName(b.name, namespace, account) : joinName(b.name, account);
}

// ---- RBAC rule matching (upstream pkg/apis/rbac/v1/evaluation_helpers.go) --------------------------------------

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) =>
      r === '*' ||
      r === combined ||
      (subresource !== undefined && r.length === subresource.length + 2 && r === `*/${subresource}`),
  );
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
  );
}

/** Whether `rule` allows the request `op` (namespace scoping is the binding's business). */
export function ruleAllows(rule: PolicyRule, op: Omit<AuditOperation, 'count'>): boolean {
  if (!verbMatches(rule, op.verb)) return false;
  if (op.path !== undefined) return urlMatches(rule, op.path);
  if (!op.resource) return false;
  if (!(rule.apiGroups ?? ['']).some((g) => g === '*' || g === (op.apiGroup ?? ''))) return false;
  if (!resourceMatches(rule, op.resource, op.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (op.name !== undefined && names.includes(op.name));
}

/** The role a binding refers to, as the snapshot holds it. */
export function roleOf(roles: readonly RoleInfo[], b: BindingInfo): RoleInfo | undefined {
  return roles.find(
    (r) =>
      r.kind === b.roleRef.kind &&
      r.name === b.roleRef.name &&
      (r.kind === 'ClusterRole' || r.namespace === b.namespace),
  );
}

/** The requests of `ops` that binding `b` (with `role`) allows. */
export function requestsAllowedBy(
  b: BindingInfo,
  role: RoleInfo,
  ops: readonly AuditOperation[],
): AuditOperation[] {
  return ops.filter((op) => {
    // A RoleBinding grants in its namespace only, and never non-resource URLs or cluster-scoped resources.
    if (b.kind === 'RoleBinding' && (op.path !== undefined || op.namespace !== b.namespace)) return false;
    return role.rules.some((rule) => ruleAllows(rule, op));
  });
}

export function operationText(op: Omit<AuditOperation, 'count'>): string {
  if (op.path !== undefined) return `${op.verb} ${op.path}`;
  const group = op.apiGroup ? `.${op.apiGroup}` : '';
  const resource = `${op.resource}${group}${op.subresource ? `/${op.subresource}` : ''}`;
  const where = op.namespace ? ` in ${op.namespace}` : '';
  return `${op.verb} ${resource}${op.name ? ` ${op.name}` : ''}${where}`;
}

interface Selection {
  rule: string;
  decide: (b: BindingInfo) => { copy: boolean; why: string };
}

/** How the bindings of `namespace/default` are chosen: the audit log's requests, else all of them. */
function selection(input: DedicatedInput, namespace: string): Selection {
  const audit = input.audit;
  const account = `ServiceAccount ${namespace}/default`;
  if (!audit) {
    return {
      rule: 'no audit log (--audit-log FILE): every binding of default beyond the system defaults is duplicated',
      decide: (b) => ({
        copy: true,
        why: `${bindingLabel(b)} binds ${account} (no audit log: every non-default binding is kept)`,
      }),
    };
  }
  const window = windowText(audit);
  const activity = audit.users.get(serviceAccountUser(namespace, 'default'));
  if (!activity && audit.droppedUsers > 0) {
    return {
      rule: `the audit log names more users than kube-harden keeps (${audit.droppedUsers} event(s) not counted), so ${account}'s requests may be missing: every binding of default beyond the system defaults is duplicated`,
      decide: (b) => ({
        copy: true,
        why: `${bindingLabel(b)} binds ${account} (the audit log may miss its requests: kept)`,
      }),
    };
  }
  if (activity?.truncated) {
    return {
      rule: `the audit log holds more distinct requests than kube-harden keeps, so some of ${account}'s are missing: every binding of default beyond the system defaults is duplicated`,
      decide: (b) => ({
        copy: true,
        why: `${bindingLabel(b)} binds ${account} (the audit log misses some of its requests: kept)`,
      }),
    };
  }
  const ops = [...(activity?.operations.values() ?? [])].filter(
    (op) => op.path === undefined || !isDiscoveryPath(op.path),
  );
  const made = activity ? `made ${requestsText(activity.requests)} ${window}` : `made no request ${window}`;
  return {
    rule: `audit log: only the bindings whose role allows a request ${account} made (${made}; the log names the account, not the workload)`,
    decide: (b) => {
      const role = roleOf(input.snapshot.roles, b);
      if (!role)
        return {
          copy: true,
          why: `${bindingLabel(b)} binds ${account} to ${roleLabel(b)}, which could not be read: kept (it may allow what the workload does)`,
        };
      const used = requestsAllowedBy(b, role, ops);
      if (used.length === 0)
        return {
          copy: false,
          why: `${bindingLabel(b)} (${roleLabel(b)}) allowed none of the requests ${account} made ${window}: not duplicated (it stays on default)`,
        };
      const count = used.reduce((n, op) => n + op.count, 0);
      const shown = used
        .slice(0, 3)
        .map((op) => operationText(op))
        .join(', ');
      return {
        copy: true,
        why: `${bindingLabel(b)} (${roleLabel(b)}) allowed ${requestsText(count)} ${account} made ${window} (${shown}${used.length > 3 ? ', …' : ''})`,
      };
    },
  };
}

/** `ns/name` of every existing account this plan would name (read them for `accountOwners`). */
export function accountKeys(input: Omit<DedicatedInput, 'accountOwners'>): string[] {
  const existing = new Set(input.snapshot.serviceAccounts.map((s) => `${s.namespace}/${s.name}`));
  const out: string[] = [];
  for (const namespace of input.namespaces) {
    const names = accountNames(candidates(input, namespace));
    for (const name of names.values()) {
      const key = `${namespace}/${name}`;
      if (existing.has(key)) out.push(key);
    }
  }
  return out.sort();
}

/** The workloads of `namespace` that run as `default` (template, else first pod), in a stable order. */
function candidates(input: Pick<DedicatedInput, 'snapshot'>, namespace: string): Workload[] {
  return input.snapshot.workloads
    .filter((w) => {
      if (w.namespace !== namespace) return false;
      const spec = (w.template ?? w.pods[0]?.pod)?.spec;
      return spec !== undefined && (spec.serviceAccountName || 'default') === 'default';
    })
    .sort(
      (a, b) =>
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
}

function sameBinding(
  a: BindingInfo,
  roleRef: BindingInfo['roleRef'],
  namespace: string,
  account: string,
): boolean {
  return (
    a.roleRef.kind === roleRef.kind &&
    a.roleRef.name === roleRef.name &&
    a.subjects.length === 1 &&
    a.subjects[0]?.kind === 'ServiceAccount' &&
    a.subjects[0]?.name === account &&
    (a.subjects[0]?.namespace ?? a.namespace) === namespace
  );
}

export function planDedicated(input: DedicatedInput): DedicatedNamespace[] {
  const out: DedicatedNamespace[] = [];
  const existingAccounts = new Set(input.snapshot.serviceAccounts.map((s) => `${s.namespace}/${s.name}`));
  const existingBindings = new Map<string, BindingInfo>();
  for (const b of input.snapshot.bindings)
    existingBindings.set(`${b.kind}/${b.namespace ?? ''}/${b.name}`, b);
  // Cluster-scoped copies planned so far (across namespaces), so that two never share a name.
  const plannedClusterCopies = new Set<string>();
  for (const namespace of input.namespaces) {
    const rows: DedicatedPlan[] = [];
    const list = candidates(input, namespace);
    const names = accountNames(list);
    const pick = selection(input, namespace);
    const { direct, groups } = bindingsOf(input.snapshot.bindings, namespace, 'default');
    const unknown = bindingsUnknown(input.snapshot.unknown, namespace);
    for (const w of list) {
      const evidence = workloadEvidence(w, {
        snapshot: input.snapshot,
        ...(input.audit ? { audit: input.audit } : {}),
      });
      const account = names.get(`${w.kind}/${w.name}`) as string;
      const group = `sa-dedicated/${w.kind.toLowerCase()}/${namespace}/${w.name}`;
      const automount = evidence.use !== 'no';
      const automountWhy =
        evidence.use === 'no'
          ? `no evidence of API use (${evidence.summary}): automountServiceAccountToken: false`
          : evidence.use === 'yes'
            ? `uses the API (${evidence.summary}): automountServiceAccountToken: true`
            : `API use unknown (${evidence.summary}): automountServiceAccountToken: true, so nothing loses its token`;
      const row: DedicatedPlan = {
        workload: w,
        evidence,
        group,
        account,
        accountExists: false,
        automount,
        automountWhy,
        bindings: [],
        rule: pick.rule,
        notes: groups.map(
          ({ binding, group: g }) =>
            `group ${g} is bound by ${bindingLabel(binding)}: no copy needed (the new account is a member too)`,
        ),
        choice: 'skip',
        why: '',
      };
      rows.push(row);
      const what = describeWorkload(w);
      if (w.kind === 'Pod') {
        row.why = `${what} runs as ServiceAccount ${namespace}/default but a bare Pod cannot switch accounts (spec.serviceAccountName is immutable): set serviceAccountName: ${account} in its manifest and re-create it (or run it from a Deployment)`;
        continue;
      }
      if (w.kind === 'Job') {
        row.why = `${what} runs as ServiceAccount ${namespace}/default but a Job's pod template is immutable: set serviceAccountName in its manifest (or in the CronJob that creates it)`;
        continue;
      }
      if (!w.template) {
        row.why = `${what} runs as ServiceAccount ${namespace}/default but its pod template could not be read (only its pods were): not proposed`;
        continue;
      }
      if (unknown) {
        row.why = `${what} runs as ServiceAccount ${namespace}/default, whose bindings could not all be read (see unknown): a copy could miss one, so no dedicated account is proposed (unknown is not compliant)`;
        continue;
      }
      const key = `${namespace}/${account}`;
      if (existingAccounts.has(key)) {
        const owner = input.accountOwners?.get(key);
        if (owner !== `${w.kind}/${w.name}`) {
          row.why = `${what} runs as ServiceAccount ${namespace}/default; its dedicated account would be ServiceAccount ${key}, which exists already and ${
            owner === undefined
              ? 'could not be read'
              : owner === null
                ? 'was not made by kube-harden'
                : `was made by kube-harden for ${owner}`
          }: skipped — rename or remove that account, or give the workload an account by hand`;
          continue;
        }
        row.accountExists = true;
      }
      let clash: string | undefined;
      for (const b of direct) {
        const decision = pick.decide(b);
        const name = copyName(b, namespace, account);
        row.bindings.push({ source: b, copy: decision.copy, name, why: decision.why });
        if (!decision.copy) continue;
        const copyKind = b.kind;
        const copyKey = `${copyKind}/${copyKind === 'RoleBinding' ? namespace : ''}/${name}`;
        const there = existingBindings.get(copyKey);
        if (there && !sameBinding(there, b.roleRef, namespace, account)) {
          clash = `the copy of ${bindingLabel(b)} would be ${bindingLabel({ kind: copyKind, namespace, name })}, which exists already and binds something else`;
          break;
        }
        if (copyKind === 'ClusterRoleBinding') {
          if (plannedClusterCopies.has(name)) {
            clash = `the copy of ${bindingLabel(b)} would be ClusterRoleBinding ${name}, a name another workload's copy takes`;
            break;
          }
        }
      }
      if (clash) {
        row.bindings = [];
        row.why = `${what} runs as ServiceAccount ${namespace}/default; ${clash}: skipped — rename that binding, or give the workload an account by hand`;
        continue;
      }
      for (const d of row.bindings)
        if (d.copy && d.source.kind === 'ClusterRoleBinding') plannedClusterCopies.add(d.name);
      row.choice = 'dedicate';
      const copies = row.bindings.filter((d) => d.copy).length;
      row.why = `${what} runs as ServiceAccount ${namespace}/default: ServiceAccount ${key} of its own (${
        automount ? 'token mounted' : 'no token'
      }), ${
        direct.length
          ? `${copies} of default's ${direct.length} binding(s) duplicated for it`
          : 'no binding to duplicate (default has none beyond the system defaults)'
      }`;
    }
    out.push({ namespace, workloads: rows });
  }
  return out;
}
