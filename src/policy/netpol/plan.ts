/**
 * The default-deny plan (issue 11): per namespace in scope, a default deny for each direction not already denied,
 * and the allows that keep DNS, the API server, ingress, admission webhooks, monitoring and (by choice)
 * same-namespace traffic working. NetworkPolicy semantics (`networking/v1/types.go`, docs
 * `concepts/services-networking/network-policies.md`): policies are additive, a pod is isolated in a direction
 * once any policy selecting it lists that direction, and a flow needs egress at the source and ingress at the
 * destination. So: existing policies are never changed (kube-harden only adds), and an allow is only written for a
 * direction the namespace ends up denying — anywhere else it would isolate the pods it selects.
 */
import { createHash } from 'node:crypto';
import { coverage } from '../network.js';
import { type ApiResolution, apiClients, apiServerTargets } from './apiserver.js';
import { type CniVerdict, detectCni } from './cni.js';
import { type DnsResolution, resolveDns } from './dns.js';
import type { Edge, Endpoint, Finding, PolicySlot } from './edges.js';
import { ingressEdges } from './ingress.js';
import { monitoringEdges } from './monitoring.js';
import {
  allTargetPorts,
  describePorts,
  type PodPort,
  uniquePorts,
  workloadName,
  workloadSelector,
} from './ports.js';
import {
  allowObject,
  defaultDenyObject,
  hostCidr,
  ipBlockPeer,
  localPodsPeer,
  MANAGED_BY,
  NAME_PREFIX,
  podsPeer,
  policyName,
  portsOf,
  type RuleShape,
  sameNamespaceObject,
} from './shapes.js';
import type {
  DesiredPolicy,
  NamespacePlan,
  NetpolInput,
  NetpolOptions,
  NetworkPolicyInfo,
  NetworkPolicyPeerObject,
} from './types.js';
import { webhookEdges } from './webhooks.js';

export interface NetpolPlan {
  /** Cluster-wide warnings: the CNI does not enforce, or enforces with caveats the policies cannot express. */
  warnings: string[];
  cni: CniVerdict;
  dns: DnsResolution;
  apiServer: ApiResolution;
  namespaces: NamespacePlan[];
}

/** A policy kube-harden wrote earlier: its name and its managed-by label. Never counted as "existing". */
export function isOwnPolicy(p: Pick<NetworkPolicyInfo, 'name' | 'labels'>): boolean {
  return (
    p.name.startsWith(NAME_PREFIX) &&
    p.labels['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by']
  );
}

const everyPod = (namespace: string): Endpoint => ({
  kind: 'pods',
  namespace,
  selector: {},
  label: `every pod of ${namespace}`,
});

function dnsEdges(namespace: string, dns: DnsResolution): Edge[] {
  const slot: PolicySlot = {
    purpose: 'dns',
    name: policyName('allow-dns'),
    title: `Lets every pod of ${namespace} resolve names`,
  };
  const edges: Edge[] = [];
  if (dns.ok) {
    const ref = `${dns.service.namespace}/${dns.service.name}`;
    edges.push({
      from: everyPod(namespace),
      to: {
        kind: 'pods',
        namespace: dns.service.namespace,
        selector: { matchLabels: dns.selector },
        label: `DNS pods of ${ref}`,
      },
      ports: dns.ports,
      egress: slot,
      reason: `DNS pods of Service ${ref} on ${describePorts(dns.ports)}`,
    });
  }
  if (dns.nodeLocal)
    edges.push({
      from: everyPod(namespace),
      to: { kind: 'cidrs', cidrs: dns.nodeLocal.addresses.map(hostCidr), label: 'NodeLocal DNSCache' },
      ports: dns.nodeLocal.ports,
      egress: slot,
      reason: `NodeLocal DNSCache ${dns.nodeLocal.addresses.join(', ')} on ${describePorts(dns.nodeLocal.ports)}`,
    });
  return edges;
}

/** When the DNS namespace itself is default-denied, its pods must still answer everyone. */
function dnsServiceEdge(dns: DnsResolution, scope: ReadonlySet<string>): Edge[] {
  if (!dns.ok || !scope.has(dns.service.namespace)) return [];
  const ref = `${dns.service.namespace}/${dns.service.name}`;
  return [
    {
      from: { kind: 'any', label: 'anywhere' },
      to: {
        kind: 'pods',
        namespace: dns.service.namespace,
        selector: { matchLabels: dns.selector },
        label: `DNS pods of ${ref}`,
      },
      ports: dns.ports,
      ingress: {
        purpose: 'dns',
        name: policyName('allow-dns-service'),
        title: `Keeps the cluster DNS (${ref}) answering every pod`,
      },
      reason: `cluster DNS on ${describePorts(dns.ports)}`,
    },
    {
      // The DNS server forwards what it does not serve (CoreDNS `forward . /etc/resolv.conf`) to resolvers the
      // cluster cannot name: anywhere, on 53 only.
      from: {
        kind: 'pods',
        namespace: dns.service.namespace,
        selector: { matchLabels: dns.selector },
        label: `DNS pods of ${ref}`,
      },
      to: { kind: 'cidrs', cidrs: ['0.0.0.0/0', '::/0'], label: 'upstream resolvers' },
      ports: [
        { protocol: 'TCP', port: 53 },
        { protocol: 'UDP', port: 53 },
      ],
      egress: {
        purpose: 'dns',
        name: policyName('allow-dns-upstream'),
        title: `Lets the cluster DNS (${ref}) forward queries upstream`,
      },
      reason: 'upstream resolvers on TCP 53, UDP 53',
    },
  ];
}

function apiEdges(
  input: NetpolInput,
  namespace: string,
  api: ApiResolution,
): { edges: Edge[]; clients: number } {
  const clients = apiClients(
    input.pods.filter((p) => p.namespace === namespace),
    input.rbac,
  ).sort((a, b) => workloadName(a.pod).localeCompare(workloadName(b.pod)));
  if (!api.ok) return { edges: [], clients: clients.length };
  const edges: Edge[] = [];
  // The Service's ClusterIP on its port too: harmless, and it helps CNIs that evaluate before DNAT.
  const svc = input.services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
  const extra = (svc?.clusterIPs ?? []).map((ip) => ({
    cidr: hostCidr(ip),
    ports: uniquePorts(svc?.ports.map((p) => ({ protocol: 'TCP' as const, port: p.port })) ?? []),
  }));
  for (const { pod, reason } of clients) {
    const slot: PolicySlot = {
      purpose: 'apiserver',
      name: policyName('allow-apiserver', pod.workload.kind, pod.workload.name),
      title: `Lets ${workloadName(pod)} reach the API server`,
    };
    for (const t of [...api.targets, ...extra])
      edges.push({
        from: { kind: 'pods', namespace, selector: workloadSelector(pod), label: workloadName(pod) },
        to: { kind: 'cidrs', cidrs: [t.cidr], label: 'the API server' },
        ports: t.ports,
        egress: slot,
        reason: `it ${reason}; API server endpoints ${api.targets.map((x) => x.cidr).join(', ')}`,
      });
  }
  return { edges, clients: clients.length };
}

/** `isolated`: the Services of the namespace stay reachable from the namespace's own pods, and nothing else. */
function serviceEdges(input: NetpolInput, namespace: string): Edge[] {
  const edges: Edge[] = [];
  const services = input.services
    .filter((s) => s.namespace === namespace && Object.keys(s.selector ?? {}).length > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const s of services) {
    const { ports } = allTargetPorts(s, input.pods);
    if (ports.length === 0) continue;
    edges.push({
      from: everyPod(namespace),
      to: {
        kind: 'pods',
        namespace,
        selector: { matchLabels: { ...(s.selector ?? {}) } },
        label: `pods of Service ${namespace}/${s.name}`,
      },
      ports,
      ingress: {
        purpose: 'service',
        name: policyName('allow-service', s.name),
        title: `Lets pods of ${namespace} call Service ${s.name}`,
      },
      egress: {
        purpose: 'service',
        name: policyName('allow-services'),
        title: `Lets pods of ${namespace} call the namespace's Services`,
      },
      reason: `Service ${s.name} on ${describePorts(ports)}`,
    });
  }
  return edges;
}

function peerOf(end: Endpoint, policyNamespace: string): NetworkPolicyPeerObject[] {
  switch (end.kind) {
    case 'any':
      return [];
    case 'cidrs':
      return end.cidrs.map(ipBlockPeer);
    case 'pods':
      return [
        end.namespace === policyNamespace
          ? localPodsPeer(end.selector)
          : podsPeer(end.namespace, end.selector),
      ];
  }
}

const sortPorts = (ports: readonly PodPort[]) => uniquePorts(ports);

/** JSON with object keys sorted: equal selectors give equal strings whatever order their labels came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function summarize(reasons: string[]): string {
  const unique = [...new Set(reasons)];
  if (unique.length <= 3) return unique.join('; ');
  return `${unique.slice(0, 3).join('; ')}; and ${unique.length - 3} more`;
}

/** Edges → one allow policy per slot, for one direction of one namespace. */
function policiesFor(
  namespace: string,
  direction: 'Ingress' | 'Egress',
  edges: readonly Edge[],
): DesiredPolicy[] {
  const groups = new Map<
    string,
    { slot: PolicySlot; selector: Endpoint & { kind: 'pods' }; edges: Edge[] }
  >();
  for (const e of edges) {
    const slot = direction === 'Ingress' ? e.ingress : e.egress;
    const own = direction === 'Ingress' ? e.to : e.from;
    if (!slot || own.kind !== 'pods' || own.namespace !== namespace) continue;
    const key = `${slot.name}\0${canonical(own.selector)}`;
    const g = groups.get(key) ?? { slot, selector: own, edges: [] };
    g.edges.push(e);
    groups.set(key, g);
  }
  const byName = new Map<string, number>();
  for (const g of groups.values()) byName.set(g.slot.name, (byName.get(g.slot.name) ?? 0) + 1);
  const out: DesiredPolicy[] = [];
  for (const g of groups.values()) {
    let name = g.slot.name;
    if ((byName.get(name) ?? 0) > 1)
      name = `${name}-${createHash('sha256').update(canonical(g.selector.selector)).digest('hex').slice(0, 6)}`;
    const rules = new Map<string, { peers: NetworkPolicyPeerObject[]; ports: PodPort[] }>();
    for (const e of g.edges) {
      const peers = peerOf(direction === 'Ingress' ? e.from : e.to, namespace);
      const k = canonical(peers);
      const r = rules.get(k) ?? { peers, ports: [] };
      r.ports.push(...e.ports);
      rules.set(k, r);
    }
    const shaped: RuleShape[] = [...rules.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, r]) => ({ peers: r.peers, ports: portsOf(sortPorts(r.ports)) }));
    out.push({
      name,
      namespace,
      purpose: g.slot.purpose,
      explanation: `${g.slot.title}: ${summarize(g.edges.map((e) => e.reason))}.`,
      object: allowObject(name, namespace, g.selector.selector, direction, shaped),
    });
  }
  return out;
}

function warnings(
  cni: CniVerdict,
  api: ApiResolution,
  namespaces: readonly NamespacePlan[],
  hints: NetpolInput['cniConfig'],
): string[] {
  const out: string[] = [];
  if (cni.enforcesNetworkPolicy === false)
    out.push(
      `the CNI (${cni.cni}) does not enforce NetworkPolicy: these policies have no effect yet (${cni.evidence.join('; ')})`,
    );
  else if (cni.enforcesNetworkPolicy === 'unknown')
    out.push(
      `whether the CNI (${cni.cni}) enforces NetworkPolicy is unknown: these policies may have no effect (${cni.evidence.join('; ')})`,
    );
  const usesApiBlocks = namespaces.some((n) => n.policies.some((p) => p.purpose === 'apiserver'));
  if (
    usesApiBlocks &&
    api.ok &&
    hints?.ciliumPolicyCidrMatchMode !== 'nodes' &&
    cni.matches.some((m) => m.cni === 'cilium' || m.cni === 'gke-dataplane-v2')
  )
    // cilium `Documentation/security/policy/language.rst`: CIDR rules do not select cluster nodes by default.
    out.push(
      'Cilium does not match node addresses with ipBlock: when the API server runs on cluster nodes, its egress allows need policy-cidr-match-mode=nodes (or a CiliumNetworkPolicy toEntities: kube-apiserver)',
    );
  if (cni.matches.some((m) => m.cni === 'aws-vpc-cni' && m.enforces === true))
    // EKS user guide, "Considerations": the policy agent sees Service ports only where they equal the pod port.
    out.push(
      'AWS VPC CNI network policy needs each Service port to equal its container port: check the Services named in the allows',
    );
  return out;
}

export function planNetworkPolicies(input: NetpolInput, options: NetpolOptions): NetpolPlan {
  const scope = new Set(options.namespaces);
  const sameNamespace = options.sameNamespace ?? 'namespace';
  const cni = detectCni(input.daemonSets, input.cniConfig);
  const dns = resolveDns(input);
  const apiServer = apiServerTargets(input.apiServer);

  const shared: Edge[] = [...dnsServiceEdge(dns, scope)];
  const findings: Finding[] = [];
  for (const part of [
    ingressEdges(input, scope),
    webhookEdges(input, scope),
    monitoringEdges(input, scope),
  ]) {
    shared.push(...part.edges);
    findings.push(...part.findings);
  }

  const namespaces: NamespacePlan[] = [];
  for (const namespace of [...scope].sort()) {
    const plan: NamespacePlan = {
      namespace,
      existing: { ingress: 'unknown', egress: 'unknown' },
      denied: { ingress: false, egress: false },
      policies: [],
      refusals: [],
      notes: [],
    };
    namespaces.push(plan);
    if (!input.namespaces.some((n) => n.name === namespace)) {
      plan.refusals.push(`namespace ${namespace} was not found`);
      continue;
    }
    if ((input.networkPoliciesUnknown ?? []).includes(namespace)) {
      plan.refusals.push(
        `the NetworkPolicies of ${namespace} could not be read: nothing is proposed until they can be`,
      );
      continue;
    }
    const all = input.networkPolicies.filter((p) => p.namespace === namespace);
    const existing = all.filter((p) => !isOwnPolicy(p));
    const posture = { ingress: coverage(existing, 'Ingress'), egress: coverage(existing, 'Egress') };
    plan.existing = { ingress: posture.ingress, egress: posture.egress };

    const refuse = { ingress: [] as string[], egress: [] as string[] };
    for (const f of findings.filter((x) => x.namespace === namespace)) {
      if (f.refuse) refuse[f.refuse].push(f.message);
      else plan.notes.push(f.message);
    }
    if (!dns.ok) refuse.egress.push(`${dns.reason}: denying egress would break name resolution`);
    else plan.notes.push(...dns.notes);
    const api = apiEdges(input, namespace, apiServer);
    if (!apiServer.ok && api.clients > 0)
      refuse.egress.push(`${apiServer.reason}, and ${api.clients} workload(s) here use the API`);

    // docs "NetworkPolicy and hostNetwork pods": behaviour is undefined; most plugins do not apply policy to them.
    const hostNetwork = input.pods
      .filter((p) => p.namespace === namespace && p.hostNetwork)
      .map(workloadName)
      .sort();
    if (hostNetwork.length > 0)
      plan.notes.push(`hostNetwork pods are not covered by NetworkPolicy: ${hostNetwork.join(', ')}`);

    const already = { ingress: posture.ingress === 'denied', egress: posture.egress === 'denied' };
    const add = {
      ingress: !already.ingress && refuse.ingress.length === 0,
      egress: !already.egress && refuse.egress.length === 0,
    };
    for (const d of ['ingress', 'egress'] as const) {
      if (already[d]) {
        plan.notes.push(`${d} is already denied by an existing all-pods policy: kept as is`);
        for (const r of refuse[d]) plan.notes.push(`${d} stays denied by the existing policy, but ${r}`);
      } else for (const r of refuse[d]) plan.refusals.push(`${d} not denied: ${r}`);
      if (posture[d] === 'open' && add[d])
        plan.notes.push(
          `an existing all-pods policy allows all ${d}: the new deny has no effect on ${d} until that policy is changed`,
        );
    }
    plan.denied = { ingress: already.ingress || add.ingress, egress: already.egress || add.egress };

    const desired: DesiredPolicy[] = [];
    const directions: Array<'Ingress' | 'Egress'> = [];
    if (add.ingress) directions.push('Ingress');
    if (add.egress) directions.push('Egress');
    if (directions.length > 0) {
      const name =
        directions.length === 2 ? policyName('default-deny') : policyName('default-deny', directions[0]!);
      desired.push({
        name,
        namespace,
        purpose: 'default-deny',
        explanation: `Denies all ${directions.map((d) => d.toLowerCase()).join(' and ')} traffic of every pod in ${namespace} that no other policy allows.`,
        object: defaultDenyObject(name, namespace, directions),
      });
    }

    const enforced: Array<'Ingress' | 'Egress'> = [];
    if (plan.denied.ingress) enforced.push('Ingress');
    if (plan.denied.egress) enforced.push('Egress');
    if (sameNamespace === 'namespace' && enforced.length > 0) {
      const name = policyName('allow-same-namespace');
      desired.push({
        name,
        namespace,
        purpose: 'same-namespace',
        explanation: `Lets the pods of ${namespace} talk to each other (${enforced.map((d) => d.toLowerCase()).join(' and ')}); choose "isolated" to allow only the namespace's Services.`,
        object: sameNamespaceObject(name, namespace, enforced),
      });
    }

    const edges: Edge[] = [...shared, ...dnsEdges(namespace, dns), ...api.edges];
    if (sameNamespace === 'isolated') edges.push(...serviceEdges(input, namespace));
    if (plan.denied.ingress) desired.push(...policiesFor(namespace, 'Ingress', edges));
    if (plan.denied.egress) {
      desired.push(...policiesFor(namespace, 'Egress', edges));
      plan.notes.push(
        `egress from ${namespace} to other namespaces' Services is denied unless allowed above (DNS, the API server, ingress backends, scrape targets): add an allow for each such dependency`,
      );
    }

    // Never overwrite someone else's object that happens to carry one of our names.
    const names = new Set<string>();
    for (const p of desired) {
      if (names.has(p.name)) {
        p.name = policyName(p.name.slice(NAME_PREFIX.length), p.object.spec.policyTypes.join('-'));
        p.object.metadata.name = p.name;
      }
      names.add(p.name);
      const clash = all.find((x) => x.name === p.name && !isOwnPolicy(x));
      if (clash) {
        plan.refusals.push(
          `NetworkPolicy ${namespace}/${p.name} exists and is not managed by kube-harden: left as is`,
        );
        continue;
      }
      plan.policies.push(p);
    }
    plan.policies.sort(
      (a, b) =>
        Number(b.purpose === 'default-deny') - Number(a.purpose === 'default-deny') ||
        a.name.localeCompare(b.name),
    );
  }
  return { warnings: warnings(cni, apiServer, namespaces, input.cniConfig), cni, dns, apiServer, namespaces };
}
