/**
 * Evidence of Kubernetes API use, per workload (phase 4, issue 12). Pure: it reads the Snapshot and, when given,
 * the summary of an audit log. Every decision of phase 4 names its evidence, in words an operator can check:
 *
 * - a binding of the workload's ServiceAccount (RoleBinding or ClusterRoleBinding naming it as a subject), beyond
 *   the defaults every account has (upstream's bootstrap bindings, label `kubernetes.io/bootstrapping=rbac-defaults`,
 *   and bindings named `system:*`): "bound to Role payments/ledger-operator (RoleBinding payments/ledger)";
 * - a known controller/operator image or Helm chart (controllers.ts): "runs cert-manager (image …)";
 * - an explicitly projected ServiceAccount token volume for the API server (no `audience`), or a volume of its
 *   own mounted at the token path;
 * - with an audit log: the requests its ServiceAccount made ("made 1,204 requests in the audit log (…)").
 *
 * Bindings to groups (`system:serviceaccounts`, `system:serviceaccounts:NS`, `system:authenticated`) are named in
 * the notes but are not evidence: they are not specific to the workload. When the bindings could not be read
 * (a refused list), and nothing else shows API use, the answer is `unknown` — never "no use" (house rule 4).
 * k8s-semantics §4 "Heuristics": none of these is authoritative; the audit log is the best evidence, and no
 * request seen in a window is not proof that none is ever made (yearly jobs, failure paths).
 */
import type { BindingInfo, Snapshot, Workload } from '../../inventory/types.js';
import { Kinds, resourceName } from '../../k8s/kinds.js';
import { BOOTSTRAP_LABEL } from '../rbac.js';
import { type AuditSummary, requestsText, serviceAccountUser, windowText } from './audit-log.js';
import { knownControllersOf } from './controllers.js';

/** Where the automounted token goes (`DefaultAPITokenMountPath`, plugin/pkg/admission/serviceaccount). */
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The prefix of the automounted projected volume (`ServiceAccountVolumeName`). */
export const AUTOMOUNT_VOLUME_PREFIX = 'kube-api-access-';

export type ApiUse = 'yes' | 'no' | 'unknown';

export interface WorkloadEvidence {
  kind: Workload['kind'];
  namespace: string;
  name: string;
  serviceAccount: string;
  use: ApiUse;
  /** What shows API use (empty when `use` is not `yes`). */
  evidence: string[];
  /** What was seen but does not count (group bindings, tokens for other audiences, what could not be read). */
  notes: string[];
  /** One line naming the evidence: "bound to Role payments/ledger-operator (…)", "no binding, no requests …". */
  summary: string;
}

export interface EvidenceInput {
  snapshot: Pick<Snapshot, 'workloads' | 'bindings' | 'unknown'>;
  audit?: AuditSummary;
}

const SA_GROUPS = (namespace: string) => [
  'system:serviceaccounts',
  `system:serviceaccounts:${namespace}`,
  'system:authenticated',
];

/** Upstream defaults every account has: bootstrap bindings (and kubeadm/controller ones named `system:*`). */
export function isDefaultBinding(b: BindingInfo): boolean {
  return b.labels[BOOTSTRAP_LABEL] === 'rbac-defaults' || b.name.startsWith('system:');
}

export function bindingText(b: BindingInfo): string {
  const role =
    b.roleRef.kind === 'Role'
      ? `Role ${b.namespace ?? '?'}/${b.roleRef.name}`
      : `ClusterRole ${b.roleRef.name}`;
  const where =
    b.kind === 'ClusterRoleBinding'
      ? ` cluster-wide (ClusterRoleBinding ${b.name})`
      : b.roleRef.kind === 'ClusterRole'
        ? ` in namespace ${b.namespace ?? '?'} (RoleBinding ${b.namespace ?? '?'}/${b.name})`
        : ` (RoleBinding ${b.namespace ?? '?'}/${b.name})`;
  return `${role}${where}`;
}

/** The non-default bindings that name ServiceAccount `namespace/name` as a subject. */
export function bindingsOf(
  bindings: readonly BindingInfo[],
  namespace: string,
  name: string,
): { direct: BindingInfo[]; groups: Array<{ binding: BindingInfo; group: string }> } {
  const direct: BindingInfo[] = [];
  const groups: Array<{ binding: BindingInfo; group: string }> = [];
  const saGroups = SA_GROUPS(namespace);
  for (const b of bindings) {
    if (isDefaultBinding(b)) continue;
    for (const s of b.subjects) {
      if (s.kind === 'ServiceAccount' && s.name === name && (s.namespace ?? b.namespace) === namespace) {
        direct.push(b);
        break;
      }
      if (s.kind === 'Group' && saGroups.includes(s.name)) {
        groups.push({ binding: b, group: s.name });
        break;
      }
    }
  }
  return { direct, groups };
}

/** Whether the bindings that could name `namespace`'s accounts were all read. */
export function bindingsUnknown(unknown: Snapshot['unknown'], namespace: string): boolean {
  const rb = resourceName(Kinds.RoleBinding);
  const crb = resourceName(Kinds.ClusterRoleBinding);
  return unknown.some(
    (u) =>
      u.resource === crb || (u.resource === rb && (u.namespace === undefined || u.namespace === namespace)),
  );
}

/** The ServiceAccount a workload's pods run as (template, else its first pod). */
export function serviceAccountOfWorkload(w: Workload): string | undefined {
  const spec = (w.template ?? w.pods[0]?.pod)?.spec;
  if (!spec) return undefined;
  return spec.serviceAccountName || 'default';
}

interface TokenVolumeFacts {
  evidence: string[];
  notes: string[];
}

export function tokenVolumes(w: Workload): TokenVolumeFacts {
  const out: TokenVolumeFacts = { evidence: [], notes: [] };
  const spec = (w.template ?? w.pods[0]?.pod)?.spec;
  if (!spec) return out;
  const own = (spec.volumes ?? []).filter((v) => !v.name.startsWith(AUTOMOUNT_VOLUME_PREFIX));
  for (const v of own) {
    const projected = v.projected as { sources?: Array<Record<string, unknown>> } | undefined;
    for (const source of projected?.sources ?? []) {
      const t = source.serviceAccountToken as { audience?: string; path?: string } | undefined;
      if (!t) continue;
      if (t.audience)
        out.notes.push(
          `projects a token for audience ${t.audience} (volume ${v.name}): not for the API server, and not affected by automount`,
        );
      else out.evidence.push(`projects a ServiceAccount token for the API server (volume ${v.name})`);
    }
  }
  const names = new Set(own.map((v) => v.name));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const m of c.volumeMounts ?? []) {
      if (m.mountPath.replace(/\/+$/, '') === TOKEN_MOUNT_PATH && names.has(m.name)) {
        out.evidence.push(`container ${c.name} mounts volume ${m.name} at ${TOKEN_MOUNT_PATH}`);
      }
    }
  }
  return out;
}

export function imagesOf(w: Workload): string[] {
  const spec = (w.template ?? w.pods[0]?.pod)?.spec;
  if (!spec) return [];
  return [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) => (c.image ? [c.image] : []));
}

/** The evidence of API use of one workload. */
export function workloadEvidence(w: Workload, input: EvidenceInput): WorkloadEvidence {
  const serviceAccount = serviceAccountOfWorkload(w) ?? 'default';
  const evidence: string[] = [];
  const notes: string[] = [];
  const { direct, groups } = bindingsOf(input.snapshot.bindings, w.namespace, serviceAccount);
  for (const b of direct) evidence.push(`bound to ${bindingText(b)}`);
  for (const { binding, group } of groups)
    notes.push(
      `group ${group} is bound to ${bindingText(binding)}: not counted (it is not specific to this workload)`,
    );
  evidence.push(...knownControllersOf(imagesOf(w), w.labels['helm.sh/chart']));
  const volumes = tokenVolumes(w);
  evidence.push(...volumes.evidence);
  notes.push(...volumes.notes);
  const audit = input.audit;
  let requests = 0;
  if (audit) {
    requests = audit.users.get(serviceAccountUser(w.namespace, serviceAccount))?.requests ?? 0;
    if (requests > 0) evidence.push(`made ${requestsText(requests)} ${windowText(audit)}`);
    else if (audit.droppedUsers > 0)
      notes.push(
        `the audit log names more users than kube-harden keeps (${audit.droppedUsers} event(s) of others not counted): its requests may be among them`,
      );
  }
  const unknown = bindingsUnknown(input.snapshot.unknown, w.namespace);
  if (unknown)
    notes.push('bindings could not all be read (see unknown): a binding may be missing from this list');
  let use: ApiUse;
  let summary: string;
  if (evidence.length > 0) {
    use = 'yes';
    summary = evidence.join('; ');
  } else if (unknown) {
    use = 'unknown';
    summary = `ServiceAccount ${w.namespace}/${serviceAccount}: its bindings could not be read, so API use is unknown`;
  } else {
    use = 'no';
    summary = audit
      ? `no binding, no requests ${windowText(audit)}`
      : 'no binding, no known controller, no projected token';
  }
  return {
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    serviceAccount,
    use,
    evidence,
    notes,
    summary,
  };
}

/** The evidence of every workload of the snapshot that has a template or pods. */
export function allWorkloadEvidence(input: EvidenceInput): WorkloadEvidence[] {
  return input.snapshot.workloads
    .filter((w) => serviceAccountOfWorkload(w) !== undefined)
    .map((w) => workloadEvidence(w, input));
}
