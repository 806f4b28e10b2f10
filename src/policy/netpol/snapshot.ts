/**
 * The Snapshot as planner input: namespaces, workloads (→ pod groups, with their `spec.selector`), NetworkPolicies,
 * RBAC, what could not be read, and the network facts (`Snapshot.network`: Services, API server endpoints,
 * DaemonSets with args, CNI hints, Ingresses, Gateway API, webhooks, monitors). No further reads.
 */
import type { OutsideWorkload, ServiceAccountInfo, Snapshot, Workload } from '../../inventory/types.js';
import type { DnsTarget } from '../network.js';
import { tokenDecision } from '../workloads.js';
import { type DnsResolution, dnsTargetOf, resolveDns } from './dns.js';
import type { LabelSelector, NetpolInput, PodGroup, ServiceLite } from './types.js';

const NETWORK_POLICIES = 'networkpolicies.networking.k8s.io';
const RBAC = [
  'roles.rbac.authorization.k8s.io',
  'clusterroles.rbac.authorization.k8s.io',
  'rolebindings.rbac.authorization.k8s.io',
  'clusterrolebindings.rbac.authorization.k8s.io',
];

/**
 * A projected `serviceAccountToken` without an audience is for the API server (its audience defaults to the
 * API server's, `core/v1` ServiceAccountTokenProjection); one for another audience is not.
 */
function projectsApiToken(volumes: ReadonlyArray<Record<string, unknown>> | undefined): boolean {
  for (const v of volumes ?? []) {
    const sources = (
      v.projected as { sources?: Array<{ serviceAccountToken?: { audience?: string } }> } | undefined
    )?.sources;
    for (const s of sources ?? []) if (s.serviceAccountToken && !s.serviceAccountToken.audience) return true;
  }
  return false;
}

/** One pod group per workload, from its template (or, without one, its first live pod). */
export function podGroupsFromWorkloads(
  workloads: readonly Workload[],
  serviceAccounts: readonly ServiceAccountInfo[],
  serviceAccountsUnknown: (namespace: string) => boolean,
  selectors: ReadonlyMap<string, LabelSelector> = new Map(),
): PodGroup[] {
  const sas = new Map(serviceAccounts.map((s) => [`${s.namespace}/${s.name}`, s]));
  const out: PodGroup[] = [];
  for (const w of workloads) {
    const pod = w.template ?? w.pods[0]?.pod;
    if (!pod) continue;
    const serviceAccount = pod.spec.serviceAccountName || 'default';
    const decision = tokenDecision(
      {
        serviceAccount,
        ...(pod.spec.automountServiceAccountToken !== undefined
          ? { automount: pod.spec.automountServiceAccountToken }
          : {}),
      },
      sas.get(`${w.namespace}/${serviceAccount}`),
      serviceAccountsUnknown(w.namespace),
    );
    const selector = selectors.get(`${w.namespace}/${w.kind}/${w.name}`) ?? w.selector;
    out.push({
      namespace: w.namespace,
      workload: { kind: w.kind, name: w.name },
      labels: { ...(pod.metadata.labels ?? {}) },
      ...(pod.metadata.annotations ? { annotations: { ...pod.metadata.annotations } } : {}),
      ...(selector ? { selector } : {}),
      serviceAccount,
      apiToken: decision.value === true || projectsApiToken(pod.spec.volumes) ? true : decision.value,
      ...(pod.spec.hostNetwork ? { hostNetwork: true } : {}),
      containers: [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => ({
        name: c.name,
        ...(c.image ? { image: c.image } : {}),
        ...(c.args ? { args: [...c.args] } : {}),
        ...(c.ports
          ? {
              ports: c.ports
                .filter((p) => typeof p.containerPort === 'number')
                .map((p) => ({
                  containerPort: p.containerPort as number,
                  ...(p.name ? { name: p.name } : {}),
                  ...(p.protocol ? { protocol: p.protocol } : {}),
                })),
            }
          : {}),
      })),
    });
  }
  return out;
}

/**
 * Pod groups of workloads outside a narrowed run's namespaces (their ServiceAccounts were not read: the token
 * decision is `unknown` unless the pod template sets it).
 */
function podGroupsFromOutside(outside: readonly OutsideWorkload[]): PodGroup[] {
  return outside.map((w) => ({
    namespace: w.namespace,
    workload: { kind: w.kind, name: w.name },
    labels: { ...w.labels },
    ...(w.selector ? { selector: w.selector } : {}),
    serviceAccount: w.serviceAccount,
    apiToken: w.automountServiceAccountToken ?? 'unknown',
    ...(w.hostNetwork ? { hostNetwork: true } : {}),
    containers: w.containers,
  }));
}

/** Overrides of what the Snapshot's network facts give (tests, or a snapshot built before they existed). */
export type NetpolExtras = Partial<
  Omit<NetpolInput, 'namespaces' | 'pods' | 'networkPolicies' | 'networkPoliciesUnknown' | 'rbac'>
> & {
  /** Workload `spec.selector`s by `namespace/Kind/name` (the Snapshot's `Workload.selector` otherwise). */
  selectors?: ReadonlyMap<string, LabelSelector>;
};

export function netpolInputFromSnapshot(snapshot: Snapshot, extras: NetpolExtras = {}): NetpolInput {
  const unknownIn = (resources: readonly string[], namespace?: string) =>
    snapshot.unknown.some(
      (u) => resources.includes(u.resource) && (u.namespace === undefined || u.namespace === namespace),
    );
  const { selectors, ...rest } = extras;
  const net = snapshot.network;
  const fromFacts: Omit<
    NetpolInput,
    'namespaces' | 'pods' | 'networkPolicies' | 'networkPoliciesUnknown' | 'rbac'
  > = net
    ? {
        services: net.services,
        daemonSets: net.daemonSets,
        cniConfig: net.cniConfig,
        ...(net.clusterDnsIPs ? { clusterDnsIPs: net.clusterDnsIPs } : {}),
        apiServer: net.apiServer,
        ingresses: net.ingresses,
        ingressClasses: net.ingressClasses,
        gatewayClasses: net.gatewayClasses,
        gateways: net.gateways,
        httpRoutes: net.httpRoutes,
        webhooks: net.webhooks,
        prometheuses: net.prometheuses,
        serviceMonitors: net.serviceMonitors,
        podMonitors: net.podMonitors,
      }
    : // No network facts (a snapshot from before they were collected): nothing is known of them.
      {
        services: [],
        daemonSets: [],
        cniConfig: { daemonSetsUnreadable: true },
        apiServer: { endpointSlices: [], unknown: true },
      };
  return {
    ...fromFacts,
    ...rest,
    namespaces: snapshot.namespaces.map((n) => ({ name: n.name, labels: { ...n.labels } })),
    pods: [
      ...podGroupsFromWorkloads(
        snapshot.workloads,
        snapshot.serviceAccounts,
        (ns) => unknownIn(['serviceaccounts'], ns),
        selectors,
      ),
      ...podGroupsFromOutside(net?.outsideWorkloads ?? []),
    ],
    networkPolicies: snapshot.networkPolicies,
    networkPoliciesUnknown: snapshot.namespaces
      .map((n) => n.name)
      .filter((ns) => unknownIn([NETWORK_POLICIES], ns)),
    rbac: {
      roles: snapshot.roles,
      bindings: snapshot.bindings,
      ...(snapshot.unknown.some((u) => RBAC.includes(u.resource)) ? { unknown: true } : {}),
    },
  };
}

/**
 * The cluster DNS of a snapshot, resolved the one way the planner resolves it (`resolveDns`: the kubelet's
 * clusterDNS Service or kube-system/kube-dns, its selector, its port-53 pod ports), and as the report's `dnsEgress`
 * check takes it (`dnsTargetOf`). `target` is absent when DNS could not be resolved (the reason is in
 * `resolution`). Only the workloads of namespaces that hold a Service on port 53 are turned into pod groups.
 */
export function clusterDnsOf(snapshot: Snapshot): { resolution: DnsResolution; target?: DnsTarget } {
  const net = snapshot.network;
  const services: ServiceLite[] = [...(net?.services ?? [])];
  // The named kube-system/kube-dns GET of the inventory (also there when a narrowed run lists no Services).
  const named = snapshot.dns;
  if (named && !services.some((s) => s.namespace === named.namespace && s.name === named.name))
    services.push(named);
  const dnsNamespaces = new Set(
    services.filter((s) => s.ports.some((p) => p.port === 53)).map((s) => s.namespace),
  );
  const unknownSas = (ns: string) =>
    snapshot.unknown.some(
      (u) => u.resource === 'serviceaccounts' && (u.namespace === undefined || u.namespace === ns),
    );
  const pods = [
    ...podGroupsFromWorkloads(
      snapshot.workloads.filter((w) => dnsNamespaces.has(w.namespace)),
      snapshot.serviceAccounts,
      unknownSas,
    ),
    ...podGroupsFromOutside((net?.outsideWorkloads ?? []).filter((w) => dnsNamespaces.has(w.namespace))),
  ];
  const resolution = resolveDns({
    services,
    pods,
    daemonSets: net?.daemonSets ?? [],
    ...(net?.clusterDnsIPs ? { clusterDnsIPs: net.clusterDnsIPs } : {}),
  });
  if (!resolution.ok) return { resolution };
  const labels = snapshot.namespaces.find((n) => n.name === resolution.service.namespace)?.labels ?? {};
  return { resolution, target: dnsTargetOf(resolution, pods, labels) };
}
