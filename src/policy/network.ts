/**
 * NetworkPolicy coverage of a namespace (k8s-semantics §3; upstream `networking/v1/types.go`,
 * `pkg/apis/networking/v1/defaults.go`). `policyTypes` in the snapshot are already as stored, or defaulted the
 * way the API server does for manifests (`effectivePolicyTypes` in inventory/build.ts).
 *
 * A direction is `denied` when a policy with an empty podSelector (all pods) lists it in policyTypes, and no such
 * all-pods policy allows everything in that direction (a rule with no peers and no ports, a peer
 * `namespaceSelector: {}`, or an `ipBlock` of 0.0.0.0/0 or ::/0 without ports) — that is `open`: isolated, but
 * open. A namespace with no all-pods policy for a direction (including one with no NetworkPolicy at all) is
 * `none`. When NetworkPolicies could not be read, `unknown`.
 */
import type { LabelSelector, NetworkPolicyInfo, NetworkPolicyRule } from '../inventory/types.js';

export type Coverage = 'denied' | 'open' | 'none' | 'unknown';

export interface NetworkPosture {
  ingress: Coverage;
  egress: Coverage;
  /**
   * When egress is denied: whether all pods may still reach the cluster DNS pods on both UDP and TCP, on the pod
   * ports behind the DNS Service's port 53 (false when the cluster DNS could not be resolved). `null` when egress
   * is not denied (nothing to allow) or unknown.
   */
  dnsEgress: boolean | null;
  /** Number of NetworkPolicies in the namespace. */
  policies: number;
}

/**
 * Where the cluster DNS pods are, as a NetworkPolicy peer must match them. Made only from the default-deny
 * planner's DNS resolution (`dnsTargetOf` / `clusterDnsOf` in ./netpol), so the report judges `dnsEgress` against
 * the pods and pod ports the generated allow names.
 */
export interface DnsTarget {
  namespace: string;
  namespaceLabels: Record<string, string>;
  podLabels: Record<string, string>;
  /** Pod-side ports (after Service translation), by protocol, with the container port names. */
  ports: Array<{ protocol: string; port: number; names: string[] }>;
}

export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  );
}

/** metav1.LabelSelector semantics (`LabelSelectorAsSelector`); an unknown operator matches nothing. */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const ANY_CIDR = new Set(['0.0.0.0/0', '::/0']);

type Peer = NonNullable<NetworkPolicyRule['peers']>[number];

function peerMatchesEverything(peer: Peer): boolean {
  if (peer.ipBlock) return ANY_CIDR.has(peer.ipBlock.cidr) && (peer.ipBlock.except ?? []).length === 0;
  return (
    peer.namespaceSelector !== undefined &&
    isEmptySelector(peer.namespaceSelector) &&
    isEmptySelector(peer.podSelector)
  );
}

/** A rule that allows all traffic in its direction: no port restriction and a peer that matches everything. */
export function isAllowAllRule(rule: NetworkPolicyRule): boolean {
  if ((rule.ports ?? []).length > 0) return false;
  const peers = rule.peers ?? [];
  return peers.length === 0 || peers.some(peerMatchesEverything);
}

/** Coverage of one direction by a namespace's own policies (see the module comment). */
export function coverage(policies: readonly NetworkPolicyInfo[], direction: 'Ingress' | 'Egress'): Coverage {
  const allPods = policies.filter((p) => isEmptySelector(p.podSelector) && p.policyTypes.includes(direction));
  if (allPods.length === 0) return 'none';
  const open = allPods.some((p) => (direction === 'Ingress' ? p.ingress : p.egress).some(isAllowAllRule));
  return open ? 'open' : 'denied';
}

function portAllows(rule: NetworkPolicyRule, target: DnsTarget['ports'][number]): boolean {
  const ports = rule.ports ?? [];
  if (ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== target.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return target.names.includes(p.port);
    return p.port <= target.port && target.port <= (p.endPort ?? p.port);
  });
}

function peerAllowsDns(rule: NetworkPolicyRule, policyNamespace: string, dns: DnsTarget): boolean {
  const peers = rule.peers ?? [];
  if (peers.length === 0) return true;
  return peers.some((peer) => {
    if (peer.ipBlock) return ANY_CIDR.has(peer.ipBlock.cidr);
    const podOk = !peer.podSelector || matchesSelector(peer.podSelector, dns.podLabels);
    if (peer.namespaceSelector) return podOk && matchesSelector(peer.namespaceSelector, dns.namespaceLabels);
    return policyNamespace === dns.namespace && podOk;
  });
}

/**
 * Whether every pod of the namespace may reach the DNS pods on both UDP and TCP: some all-pods egress policy's
 * rules together allow each protocol's port to the DNS pods (policies are additive).
 */
export function allowsDnsEgress(policies: readonly NetworkPolicyInfo[], dns: DnsTarget): boolean {
  const rules = policies
    .filter((p) => isEmptySelector(p.podSelector) && p.policyTypes.includes('Egress'))
    .flatMap((p) => p.egress.map((rule) => ({ rule, namespace: p.namespace })));
  const protocols = new Set(dns.ports.map((p) => p.protocol));
  for (const protocol of ['UDP', 'TCP']) {
    if (!protocols.has(protocol)) return false;
    const ok = dns.ports
      .filter((t) => t.protocol === protocol)
      .some((t) =>
        rules.some(({ rule, namespace }) => portAllows(rule, t) && peerAllowsDns(rule, namespace, dns)),
      );
    if (!ok) return false;
  }
  return true;
}

/**
 * Coverage of one namespace. `policies` are the namespace's own NetworkPolicies; `dns` is the cluster DNS as the
 * default-deny planner resolves it (`clusterDnsOf` in ./netpol), `undefined` when it could not be resolved: then
 * DNS egress through a denied egress cannot be shown to work, and `dnsEgress` is false (unknown is not compliant).
 */
export function networkPosture(
  policies: readonly NetworkPolicyInfo[],
  options: { unknown: boolean; dns: DnsTarget | undefined },
): NetworkPosture {
  if (options.unknown)
    return { ingress: 'unknown', egress: 'unknown', dnsEgress: null, policies: policies.length };
  const egress = coverage(policies, 'Egress');
  return {
    ingress: coverage(policies, 'Ingress'),
    egress,
    dnsEgress:
      egress === 'denied' ? options.dns !== undefined && allowsDnsEgress(policies, options.dns) : null,
    policies: policies.length,
  };
}
