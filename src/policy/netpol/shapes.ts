/**
 * The fixed shapes of the generated NetworkPolicies, in one place (they move to `templates/` later; nothing else
 * builds policy JSON). Semantics: `networking/v1/types.go` — a peer with `namespaceSelector` and `podSelector` in
 * the same element selects those pods in those namespaces (AND); `podSelector` alone means the policy's own
 * namespace; a rule without `from`/`to` matches every peer; `policyTypes` is always written out, so that a deny
 * never depends on defaulting (`SetDefaults_NetworkPolicy`).
 */
import { createHash } from 'node:crypto';
import type { PodPort } from './ports.js';
import type {
  LabelSelector,
  NetworkPolicyObject,
  NetworkPolicyPeerObject,
  NetworkPolicyPortObject,
} from './types.js';

export const NAME_PREFIX = 'kube-harden-';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-harden' } as const;
/** Set on every namespace by the API server, immutable (docs `reference/labels-annotations-taints`). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** `kube-harden-<parts>` as a valid object name (DNS subdomain, ≤ 253; long names end in a short hash). */
export function policyName(...parts: string[]): string {
  const raw = NAME_PREFIX + parts.filter((p) => p !== '').join('-');
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (name.length > 253) {
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
    name = `${name.slice(0, 244).replace(/[^a-z0-9]+$/, '')}-${hash}`;
  }
  return name;
}

const clone = (s: LabelSelector): LabelSelector => {
  const out: LabelSelector = {};
  if (s.matchLabels && Object.keys(s.matchLabels).length > 0) out.matchLabels = sortKeys(s.matchLabels);
  if (s.matchExpressions && s.matchExpressions.length > 0)
    out.matchExpressions = s.matchExpressions.map((e) => ({
      key: e.key,
      operator: e.operator,
      ...(e.values ? { values: [...e.values].sort() } : {}),
    }));
  return out;
};

function sortKeys(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}

/** Pods of `namespace` matching `selector`, from a policy in any namespace. */
export function podsPeer(namespace: string, selector: LabelSelector): NetworkPolicyPeerObject {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
    podSelector: clone(selector),
  };
}

/** Pods of the policy's own namespace matching `selector` (`{}`: all of them). */
export function localPodsPeer(selector: LabelSelector): NetworkPolicyPeerObject {
  return { podSelector: clone(selector) };
}

/** One address: `/32` for IPv4, `/128` for IPv6. */
export function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

export function ipBlockPeer(cidr: string): NetworkPolicyPeerObject {
  return { ipBlock: { cidr } };
}

export function portsOf(ports: readonly PodPort[]): NetworkPolicyPortObject[] {
  return ports.map((p) => ({ protocol: p.protocol, port: p.port }));
}

/** `podSelector: {}` with the given directions and no rules: nothing is allowed in those directions. */
export function defaultDenyObject(
  name: string,
  namespace: string,
  directions: Array<'Ingress' | 'Egress'>,
): NetworkPolicyObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: { ...MANAGED_BY } },
    spec: { podSelector: {}, policyTypes: [...directions] },
  };
}

export interface RuleShape {
  peers: NetworkPolicyPeerObject[];
  ports: NetworkPolicyPortObject[];
}

/** An allow policy for one direction. An empty `peers` list means "from/to anywhere"; empty `ports`, any port. */
export function allowObject(
  name: string,
  namespace: string,
  podSelector: LabelSelector,
  direction: 'Ingress' | 'Egress',
  rules: readonly RuleShape[],
): NetworkPolicyObject {
  const spec: NetworkPolicyObject['spec'] = { podSelector: clone(podSelector), policyTypes: [direction] };
  if (direction === 'Ingress')
    spec.ingress = rules.map((r) => ({
      ...(r.peers.length > 0 ? { from: r.peers } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports } : {}),
    }));
  else
    spec.egress = rules.map((r) => ({
      ...(r.peers.length > 0 ? { to: r.peers } : {}),
      ...(r.ports.length > 0 ? { ports: r.ports } : {}),
    }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: { ...MANAGED_BY } },
    spec,
  };
}

/** All pods of the namespace may talk to each other, in the given directions. */
export function sameNamespaceObject(
  name: string,
  namespace: string,
  directions: Array<'Ingress' | 'Egress'>,
): NetworkPolicyObject {
  const spec: NetworkPolicyObject['spec'] = { podSelector: {}, policyTypes: [...directions] };
  if (directions.includes('Ingress')) spec.ingress = [{ from: [{ podSelector: {} }] }];
  if (directions.includes('Egress')) spec.egress = [{ to: [{ podSelector: {} }] }];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: { ...MANAGED_BY } },
    spec,
  };
}
