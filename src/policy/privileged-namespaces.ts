/**
 * Privileged workloads in shared application namespaces (a frequent mistake of the seeds' checklist): a workload
 * that fails baseline — it needs the `privileged` level — in an application namespace next to workloads that do
 * not. Pod Security is enforced per namespace and cannot exempt one workload, so while it runs there the namespace
 * can enforce neither baseline nor restricted, and every other workload in it stays unprotected. The fix is to move
 * it to a namespace of its own (`<ns>-privileged`, steps/privileged-isolate.ts). A namespace where every workload
 * needs privileged is not "shared": moving would protect nothing (its tier is the question there). Pure.
 */
import type { WorkloadKind } from '../inventory/types.js';
import { cmp } from './findings.js';
import type { Tier } from './tiers.js';

/** What the evaluation needs of a namespace posture. */
export interface NamespaceLike {
  name: string;
  tier: Tier;
  unreadable?: boolean;
  terminating?: boolean;
}

/** What it needs of a workload assessment. */
export interface WorkloadLike {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  pss: { baseline: { allowed: boolean; violations: ReadonlyArray<{ check: string }> } };
}

export interface SharedPrivileged {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** The baseline checks it fails, upstream order. */
  checks: string[];
  /** Workloads of the same namespace that pass baseline (they gain enforcement when it leaves), sorted. */
  others: Array<{ kind: WorkloadKind; name: string }>;
  /** The namespace it moves to. */
  isolated: string;
}

export const ISOLATED_SUFFIX = '-privileged';

/** `<ns>-privileged`, shortened to a valid namespace name (a DNS label, at most 63 characters). */
export function isolatedNamespaceName(namespace: string): string {
  const room = 63 - ISOLATED_SUFFIX.length;
  const base = namespace.length > room ? namespace.slice(0, room).replace(/-+$/, '') : namespace;
  return `${base}${ISOLATED_SUFFIX}`;
}

/**
 * The workloads that need privileged and share an application namespace with workloads that do not, sorted by
 * namespace, kind, name. Namespaces that could not be read or are terminating are left out (nothing to move).
 */
export function sharedPrivileged(
  namespaces: readonly NamespaceLike[],
  workloads: readonly WorkloadLike[],
): SharedPrivileged[] {
  const byNs = new Map<string, WorkloadLike[]>();
  for (const w of workloads) {
    const list = byNs.get(w.namespace);
    if (list) list.push(w);
    else byNs.set(w.namespace, [w]);
  }
  const out: SharedPrivileged[] = [];
  for (const ns of namespaces) {
    if (ns.tier !== 'application' || ns.unreadable || ns.terminating) continue;
    const list = byNs.get(ns.name) ?? [];
    const others = list
      .filter((w) => w.pss.baseline.allowed)
      .map((w) => ({ kind: w.kind, name: w.name }))
      .sort((a, b) => cmp(a.kind, b.kind) || cmp(a.name, b.name));
    if (others.length === 0) continue;
    for (const w of list) {
      if (w.pss.baseline.allowed) continue;
      out.push({
        namespace: ns.name,
        kind: w.kind,
        name: w.name,
        checks: w.pss.baseline.violations.map((v) => v.check),
        others,
        isolated: isolatedNamespaceName(ns.name),
      });
    }
  }
  return out.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name));
}

/** The finding's message for one workload. */
export function sharedPrivilegedMessage(s: SharedPrivileged): string {
  const shown = s.others.slice(0, 3).map((o) => `${o.kind} ${o.name}`);
  const more = s.others.length > 3 ? `, … (${s.others.length - 3} more)` : '';
  const n = s.others.length;
  return `needs Pod Security privileged (fails baseline: ${s.checks.join(', ')}) and shares application namespace ${s.namespace} with ${n} workload${n === 1 ? '' : 's'} that pass${n === 1 ? 'es' : ''} baseline (${shown.join(', ')}${more}): PSA cannot exempt one workload, so ${s.namespace} can enforce neither baseline nor restricted while it runs there; move it to ${s.isolated} (kube-harden plan --step privileged-isolate -n ${s.namespace})`;
}
