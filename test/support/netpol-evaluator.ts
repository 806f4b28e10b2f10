/**
 * An independent NetworkPolicy evaluator for tests: does a flow pass, given the pods, namespaces and the
 * NetworkPolicy objects (as JSON, exactly as they would be sent to the API server)? It shares no code with
 * src/policy on purpose, so the planner is checked against a second reading of the rules, taken from the
 * upstream API docs (`staging/src/k8s.io/api/networking/v1/types.go`) and the concept page
 * (`concepts/services-networking/network-policies.md`):
 *
 * - A pod is isolated for ingress (egress) if any NetworkPolicy in its namespace selects it (`spec.podSelector`)
 *   and has Ingress (Egress) in `policyTypes`. Missing `policyTypes` default to Ingress, plus Egress if the policy
 *   has egress rules (`SetDefaults_NetworkPolicy`).
 * - A non-isolated direction allows everything. An isolated one allows a flow if any rule of any policy that
 *   selects the pod for that direction allows it: policies and rules are additive, order irrelevant.
 * - A flow needs egress allowed at the source and ingress allowed at the destination.
 * - A rule allows a flow if its ports match (none listed: all) and its peers match (none listed: all).
 * - Peer: `ipBlock` — the address is in `cidr` and in no `except`; `podSelector` alone — pods of the policy's
 *   namespace; `namespaceSelector` alone — all pods of matching namespaces; both — matching pods in matching
 *   namespaces. An empty selector matches everything.
 * - Port: `protocol` defaults to TCP; no `port` matches every port of the protocol; a number matches it, or the
 *   range up to `endPort`; a name matches when the destination pod declares a container port of that name and
 *   protocol with that number (named ports resolve against the destination pod, for ingress and egress).
 * - hostNetwork pods are outside pod selectors and are not isolated (behaviour is undefined upstream; most
 *   implementations treat them as their node's address); their address is matched by `ipBlock` only.
 * - Addresses outside the cluster (the API server, NodeLocal DNS, the internet) are plain IPs.
 */

export type Labels = Record<string, string>;

interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PortSpec {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface PolicyJson {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: Selector;
    policyTypes?: string[];
    ingress?: Array<{ from?: Peer[]; ports?: PortSpec[] }>;
    egress?: Array<{ to?: Peer[]; ports?: PortSpec[] }>;
  };
}

export interface EvalPod {
  namespace: string;
  name: string;
  labels: Labels;
  ip: string;
  hostNetwork?: boolean;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

export type EvalEndpoint = EvalPod | { ip: string };

const isPod = (e: EvalEndpoint): e is EvalPod => 'namespace' in e;

function selectorMatches(sel: Selector, labels: Labels): boolean {
  for (const key of Object.keys(sel.matchLabels ?? {})) {
    if (!(key in labels) || labels[key] !== sel.matchLabels?.[key]) return false;
  }
  for (const expr of sel.matchExpressions ?? []) {
    const present = key(labels, expr.key);
    const vals = expr.values ?? [];
    if (expr.operator === 'In' && !(present && vals.includes(labels[expr.key] as string))) return false;
    if (expr.operator === 'NotIn' && present && vals.includes(labels[expr.key] as string)) return false;
    if (expr.operator === 'Exists' && !present) return false;
    if (expr.operator === 'DoesNotExist' && present) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(expr.operator)) return false;
  }
  return true;
}

function key(labels: Labels, k: string): boolean {
  return Object.hasOwn(labels, k);
}

/** An IPv4 or IPv6 address as a bigint plus its width, or undefined. */
function parseIp(ip: string): { value: bigint; bits: number } | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (!ip.includes(':')) return undefined;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n), bits: 128 };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, lenText] = cidr.split('/') as [string, string | undefined];
  const net = parseIp(base);
  const addr = parseIp(ip);
  if (!net || !addr || net.bits !== addr.bits) return false;
  const len = lenText === undefined ? net.bits : Number(lenText);
  const shift = BigInt(net.bits - len);
  return net.value >> shift === addr.value >> shift;
}

export class NetpolCluster {
  private readonly nsLabels = new Map<string, Labels>();

  constructor(
    namespaces: Array<{ name: string; labels?: Labels }>,
    readonly pods: EvalPod[],
    readonly policies: PolicyJson[],
  ) {
    // The API server sets kubernetes.io/metadata.name on every namespace.
    for (const n of namespaces)
      this.nsLabels.set(n.name, { ...(n.labels ?? {}), 'kubernetes.io/metadata.name': n.name });
  }

  /** The same cluster with more policies. */
  with(policies: PolicyJson[]): NetpolCluster {
    return new NetpolCluster(
      [...this.nsLabels.entries()].map(([name, labels]) => ({ name, labels })),
      this.pods,
      [...this.policies, ...policies],
    );
  }

  pod(namespace: string, name: string): EvalPod {
    const p = this.pods.find((x) => x.namespace === namespace && x.name === name);
    if (!p) throw new Error(`no pod ${namespace}/${name} in the test cluster`);
    return p;
  }

  private types(p: PolicyJson): string[] {
    if (p.spec.policyTypes && p.spec.policyTypes.length > 0) return p.spec.policyTypes;
    return (p.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }

  /** Policies that select the pod for a direction (empty: the pod is not isolated in that direction). */
  private selecting(pod: EvalPod, direction: 'Ingress' | 'Egress'): PolicyJson[] {
    if (pod.hostNetwork) return [];
    return this.policies.filter(
      (p) =>
        (p.metadata.namespace ?? 'default') === pod.namespace &&
        this.types(p).includes(direction) &&
        selectorMatches(p.spec.podSelector, pod.labels),
    );
  }

  isolated(pod: EvalPod, direction: 'Ingress' | 'Egress'): boolean {
    return this.selecting(pod, direction).length > 0;
  }

  private peerMatches(peer: Peer, policyNs: string, other: EvalEndpoint): boolean {
    if (peer.ipBlock) {
      if (!cidrContains(peer.ipBlock.cidr, other.ip)) return false;
      return !(peer.ipBlock.except ?? []).some((e) => cidrContains(e, other.ip));
    }
    if (!isPod(other) || other.hostNetwork) return false;
    if (peer.namespaceSelector) {
      if (!selectorMatches(peer.namespaceSelector, this.nsLabels.get(other.namespace) ?? {})) return false;
    } else if (other.namespace !== policyNs) return false;
    return peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true;
  }

  private portMatches(spec: PortSpec, destination: EvalEndpoint, protocol: string, port: number): boolean {
    if ((spec.protocol ?? 'TCP') !== protocol) return false;
    if (spec.port === undefined) return true;
    if (typeof spec.port === 'number') return port >= spec.port && port <= (spec.endPort ?? spec.port);
    if (!isPod(destination)) return false;
    return (destination.ports ?? []).some(
      (cp) => cp.name === spec.port && (cp.protocol ?? 'TCP') === protocol && cp.containerPort === port,
    );
  }

  private ruleAllows(
    rule: { peers?: Peer[]; ports?: PortSpec[] },
    policyNs: string,
    peer: EvalEndpoint,
    destination: EvalEndpoint,
    protocol: string,
    port: number,
  ): boolean {
    const ports = rule.ports ?? [];
    if (ports.length > 0 && !ports.some((p) => this.portMatches(p, destination, protocol, port)))
      return false;
    const peers = rule.peers ?? [];
    return peers.length === 0 || peers.some((p) => this.peerMatches(p, policyNs, peer));
  }

  egressAllowed(from: EvalEndpoint, to: EvalEndpoint, protocol: string, port: number): boolean {
    if (!isPod(from)) return true;
    const policies = this.selecting(from, 'Egress');
    if (policies.length === 0) return true;
    return policies.some((p) =>
      (p.spec.egress ?? []).some((r) =>
        this.ruleAllows({ peers: r.to, ports: r.ports }, from.namespace, to, to, protocol, port),
      ),
    );
  }

  ingressAllowed(from: EvalEndpoint, to: EvalEndpoint, protocol: string, port: number): boolean {
    if (!isPod(to)) return true;
    const policies = this.selecting(to, 'Ingress');
    if (policies.length === 0) return true;
    return policies.some((p) =>
      (p.spec.ingress ?? []).some((r) =>
        this.ruleAllows({ peers: r.from, ports: r.ports }, to.namespace, from, to, protocol, port),
      ),
    );
  }

  /** Whether the flow passes both ends' policies. */
  allowed(from: EvalEndpoint, to: EvalEndpoint, protocol: 'TCP' | 'UDP' | 'SCTP', port: number): boolean {
    return this.egressAllowed(from, to, protocol, port) && this.ingressAllowed(from, to, protocol, port);
  }
}
