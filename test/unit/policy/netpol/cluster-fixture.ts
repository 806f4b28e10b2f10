/**
 * One description of a test cluster → both the planner's input (`NetpolInput`) and the evaluator's model (pods
 * with IPs and ports, namespaces, existing policies as JSON). The evaluator never sees the planner's input shape.
 */
import type {
  BindingInfo,
  NetworkPolicyInfo,
  NetworkPolicyRule,
  RoleInfo,
} from '../../../../src/inventory/types.js';
import type {
  DaemonSetLite,
  NetpolInput,
  NetworkPolicyObject,
  PodGroup,
  ServiceLite,
} from '../../../../src/policy/netpol/index.js';
import { type EvalPod, NetpolCluster, type PolicyJson } from '../../../support/netpol-evaluator.js';

export interface FxPod {
  ns: string;
  name: string;
  kind?: string;
  labels: Record<string, string>;
  ip: string;
  sa?: string;
  token?: boolean | 'unknown';
  hostNetwork?: boolean;
  image?: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  annotations?: Record<string, string>;
}

export interface Fx {
  namespaces: Array<string | { name: string; labels: Record<string, string> }>;
  pods: FxPod[];
  services?: ServiceLite[];
  policies?: PolicyJson[];
  daemonSets?: DaemonSetLite[];
  roles?: RoleInfo[];
  bindings?: BindingInfo[];
  apiServerIps?: string[];
  apiServerPort?: number;
  extra?: Partial<NetpolInput>;
}

/** kubeadm-style: CoreDNS, a 2-replica API server on 6443, an app namespace `shop`. */
export const KUBE_DNS_POD: FxPod = {
  ns: 'kube-system',
  name: 'coredns',
  labels: { 'k8s-app': 'kube-dns' },
  ip: '10.244.0.10',
  sa: 'coredns',
  image: 'registry.k8s.io/coredns/coredns:v1.11.3',
  ports: [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
    { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
  ],
};

export const KUBE_DNS_SERVICE: ServiceLite = {
  namespace: 'kube-system',
  name: 'kube-dns',
  labels: { 'k8s-app': 'kube-dns' },
  selector: { 'k8s-app': 'kube-dns' },
  clusterIPs: ['10.96.0.10'],
  ports: [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
    { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
  ],
};

export const KUBERNETES_SERVICE: ServiceLite = {
  namespace: 'default',
  name: 'kubernetes',
  labels: { component: 'apiserver', provider: 'kubernetes' },
  clusterIPs: ['10.96.0.1'],
  ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
};

export const SHOP_PODS: FxPod[] = [
  {
    ns: 'shop',
    name: 'web',
    labels: { app: 'web', 'pod-template-hash': 'abc' },
    ip: '10.244.1.10',
    ports: [
      { name: 'http', containerPort: 8080 },
      { name: 'metrics', containerPort: 9102 },
    ],
  },
  {
    ns: 'shop',
    name: 'api',
    labels: { app: 'api' },
    ip: '10.244.1.11',
    ports: [{ name: 'grpc', containerPort: 9000 }],
  },
  { ns: 'shop', name: 'operator', labels: { app: 'operator' }, ip: '10.244.1.12', sa: 'operator' },
  { ns: 'shop', name: 'worker', labels: { app: 'worker' }, ip: '10.244.1.13' },
];

export const SHOP_SERVICES: ServiceLite[] = [
  {
    namespace: 'shop',
    name: 'web',
    labels: { app: 'web' },
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'metrics', port: 9090, targetPort: 'metrics' },
    ],
  },
  { namespace: 'shop', name: 'api', selector: { app: 'api' }, ports: [{ name: 'grpc', port: 9000 }] },
];

export const OPERATOR_RBAC: { roles: RoleInfo[]; bindings: BindingInfo[] } = {
  roles: [
    {
      kind: 'Role',
      namespace: 'shop',
      name: 'pods-reader',
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      aggregated: false,
      labels: {},
    },
    {
      kind: 'ClusterRole',
      name: 'system:discovery',
      rules: [{ nonResourceURLs: ['/api', '/apis'], verbs: ['get'] }],
      aggregated: false,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
    },
  ],
  bindings: [
    {
      kind: 'RoleBinding',
      namespace: 'shop',
      name: 'operator',
      roleRef: { kind: 'Role', name: 'pods-reader', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: 'shop' }],
      labels: {},
    },
    {
      kind: 'ClusterRoleBinding',
      name: 'system:discovery',
      roleRef: { kind: 'ClusterRole', name: 'system:discovery' },
      subjects: [{ kind: 'Group', name: 'system:authenticated' }],
      labels: {},
    },
    {
      kind: 'RoleBinding',
      namespace: 'shop',
      name: 'worker-discovery',
      // Not among the roles read: only its name says it grants nothing beyond discovery.
      roleRef: { kind: 'ClusterRole', name: 'system:public-info-viewer' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'shop' }],
      labels: {},
    },
  ],
};

function toRule(r: { from?: unknown; to?: unknown; ports?: unknown }): NetworkPolicyRule {
  const out: NetworkPolicyRule = {};
  const peers = (r.from ?? r.to) as NetworkPolicyRule['peers'] | undefined;
  if (peers) out.peers = peers;
  if (r.ports) out.ports = r.ports as NetworkPolicyRule['ports'];
  return out;
}

/** A policy as the inventory stores it (policyTypes defaulted like the API server). */
export function toInfo(p: PolicyJson & { metadata: { labels?: Record<string, string> } }): NetworkPolicyInfo {
  const types = (
    p.spec.policyTypes && p.spec.policyTypes.length > 0
      ? p.spec.policyTypes
      : (p.spec.egress ?? []).length > 0
        ? ['Ingress', 'Egress']
        : ['Ingress']
  ) as Array<'Ingress' | 'Egress'>;
  return {
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    podSelector: p.spec.podSelector,
    policyTypes: types,
    ingress: (p.spec.ingress ?? []).map(toRule),
    egress: (p.spec.egress ?? []).map(toRule),
    labels: p.metadata.labels ?? {},
  };
}

export function build(fx: Fx): { input: NetpolInput; cluster: NetpolCluster } {
  const namespaces = fx.namespaces.map((n) => (typeof n === 'string' ? { name: n, labels: {} } : n));
  const pods: PodGroup[] = fx.pods.map((p) => ({
    namespace: p.ns,
    workload: { kind: p.kind ?? 'Deployment', name: p.name },
    labels: p.labels,
    ...(p.annotations ? { annotations: p.annotations } : {}),
    serviceAccount: p.sa ?? 'default',
    apiToken: p.token ?? true,
    ...(p.hostNetwork ? { hostNetwork: true } : {}),
    containers: [
      {
        name: p.name,
        ...(p.image ? { image: p.image } : {}),
        ...(p.args ? { args: p.args } : {}),
        ...(p.ports ? { ports: p.ports } : {}),
      },
    ],
  }));
  const apiIps = fx.apiServerIps ?? ['192.168.1.10', '192.168.1.11'];
  const input: NetpolInput = {
    namespaces,
    pods,
    services: fx.services ?? [],
    networkPolicies: (fx.policies ?? []).map(toInfo),
    daemonSets: fx.daemonSets ?? [],
    apiServer: {
      endpointSlices: [
        {
          name: 'kubernetes',
          addressType: 'IPv4',
          endpoints: apiIps.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
          ports: [{ name: 'https', port: fx.apiServerPort ?? 6443, protocol: 'TCP' }],
        },
      ],
    },
    rbac: { roles: fx.roles ?? OPERATOR_RBAC.roles, bindings: fx.bindings ?? OPERATOR_RBAC.bindings },
    ...fx.extra,
  };
  const evalPods: EvalPod[] = fx.pods.map((p) => ({
    namespace: p.ns,
    name: p.name,
    labels: p.labels,
    ip: p.ip,
    ...(p.hostNetwork ? { hostNetwork: true } : {}),
    ...(p.ports ? { ports: p.ports } : {}),
  }));
  return { input, cluster: new NetpolCluster(namespaces, evalPods, fx.policies ?? []) };
}

/** The generated objects, as the evaluator reads them. */
export const asJson = (objects: NetworkPolicyObject[]): PolicyJson[] => objects as unknown as PolicyJson[];
