/**
 * An allowed flow the cluster relies on, before it becomes policy: from a source to a destination on pod ports.
 * The planner turns each edge into an ingress rule in the destination's namespace and an egress rule in the
 * source's namespace, each only where that namespace ends up default-denied in that direction (a NetworkPolicy
 * that selects a pod isolates it in its policyTypes, so an allow in a non-denied direction would itself deny).
 */
import type { PodPort } from './ports.js';
import type { LabelSelector, PolicyPurpose } from './types.js';

export type Endpoint =
  | { kind: 'pods'; namespace: string; selector: LabelSelector; label: string }
  /** Anywhere (ingress: no `from`). */
  | { kind: 'any'; label: string }
  | { kind: 'cidrs'; cidrs: string[]; label: string };

export interface PolicySlot {
  purpose: PolicyPurpose;
  /** Full policy name (`kube-harden-...`). */
  name: string;
  /** The policy's header line; edges append their own reasons. */
  title: string;
}

export interface Edge {
  from: Endpoint;
  to: Endpoint;
  ports: PodPort[];
  /** Where the ingress rule goes (destination pods' namespace). */
  ingress?: PolicySlot;
  /** Where the egress rule goes (source pods' namespace). */
  egress?: PolicySlot;
  reason: string;
}

/** Something the planner must tell: a namespace whose direction must not be denied, or a plain note. */
export interface Finding {
  namespace: string;
  /** `ingress`/`egress`: refuse to deny that direction; `note`: informational. */
  refuse?: 'ingress' | 'egress';
  message: string;
}
