/**
 * The Snapshot: one normalized, read-only picture of a cluster (or a manifests directory), built in one pass.
 * Evaluators and steps read it; they never list the cluster again. Only the fields the evaluators need are kept
 * (see `project.ts`), so 10,000 pods fit in a few MB.
 */
import type { ServerVersion, SourceInfo } from '../k8s/types.js';
import type { AdmissionEngineFacts } from './admission-engines.js';
import type { ControlPlaneFacts } from './control-plane-facts.js';
import type { ServiceAccountFacts } from './sa-facts.js';

/** The kinds pods are folded into (their top-level owners), and bare pods. */
export const WORKLOAD_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicaSet',
  'ReplicationController',
  'Pod',
] as const;

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** The parts of a pod spec that Pod Security, token, image and network checks read. Same shape as PodSpec. */
export interface PodSpecLite {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  os?: { name?: string };
  runtimeClassName?: string;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  volumes?: Array<Record<string, unknown> & { name: string }>;
  initContainers?: ContainerLite[];
  containers: ContainerLite[];
  ephemeralContainers?: ContainerLite[];
}

export interface ContainerLite {
  name: string;
  image?: string;
  securityContext?: Record<string, unknown>;
  ports?: Array<{ containerPort?: number; hostPort?: number; protocol?: string; name?: string }>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  lifecycle?: Record<string, unknown>;
  /**
   * `command` + `args` (CNI and ingress-controller detection read flags such as `--enable-network-policy=true`).
   * Values of flags named like credentials (`--token=…`, `--password=…`) are replaced by `<redacted>`.
   */
  args?: string[];
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

/** A pod template (or a bare pod's own metadata+spec), in the shape the PSS evaluator takes. */
export interface PodTemplateLite {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpecLite;
}

/** A live pod: its name and its (interned) projected metadata+spec, evaluated like a template. */
export interface PodLite {
  name: string;
  phase?: string;
  pod: PodTemplateLite;
}

/** Who manages a workload's source of truth (its fixes must also go there). */
export interface ManagedBy {
  tool: 'helm' | 'argocd' | 'flux' | 'kustomize' | 'other';
  detail: string;
}

export interface Workload {
  apiVersion: string;
  kind: WorkloadKind;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Desired replicas where the kind has them (Deployment, StatefulSet, ReplicaSet, RC). */
  replicas?: number;
  /** The pod template. For a bare Pod: the pod itself. Absent when the owner could not be read. */
  template?: PodTemplateLite;
  /** `spec.selector` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job; an RC's map as matchLabels). */
  selector?: LabelSelector;
  /** Live pods folded into this top-level owner (bare pods: themselves). */
  pods: PodLite[];
  managedBy: ManagedBy[];
  /** Field managers found in managedFields. */
  fieldManagers: string[];
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion?: string;
  /** Declared nowhere in a manifests directory, inferred from objects that live in it. */
  synthesized?: boolean;
  terminating?: boolean;
  /** The namespace object could not be read (its labels are unknown, not empty). */
  unreadable?: boolean;
}

export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  automountServiceAccountToken?: boolean;
  resourceVersion?: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RoleInfo {
  kind: 'Role' | 'ClusterRole';
  namespace?: string;
  name: string;
  rules: PolicyRule[];
  aggregated: boolean;
  labels: Record<string, string>;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface BindingInfo {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  namespace?: string;
  name: string;
  roleRef: { kind: 'Role' | 'ClusterRole' | string; name: string; apiGroup?: string };
  subjects: Subject[];
  labels: Record<string, string>;
}

export interface NetworkPolicyInfo {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** As stored (the API server defaults it); from manifests, upstream's defaulting is applied. */
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress: NetworkPolicyRule[];
  egress: NetworkPolicyRule[];
  labels: Record<string, string>;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface NetworkPolicyRule {
  ports?: Array<{ protocol?: string; port?: number | string; endPort?: number }>;
  peers?: Array<{
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
  }>;
}

export interface AdmissionPolicyInfo {
  kind: 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionPolicyBinding';
  name: string;
  labels: Record<string, string>;
  /** Binding: validationActions and policyName; policy: failurePolicy. */
  policyName?: string;
  validationActions?: string[];
  failurePolicy?: string;
  /** Policy: the expression of its variable named `allowed` (where kube-harden's registries policy keeps its allow-list). */
  allowedExpression?: string;
  resourceVersion?: string;
}

export interface DnsServiceInfo {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  ports: Array<{ name?: string; port: number; protocol: string; targetPort?: number | string }>;
}

export interface CniHint {
  name: string;
  namespace: string;
  workload: string;
  /** Whether this CNI is known to implement NetworkPolicy. */
  enforcesNetworkPolicy: boolean | 'unknown';
}

export interface ControlPlaneHints {
  cni: CniHint[];
  /** A narrowed run (-n) could not list DaemonSets cluster-wide to find the CNI. */
  cniUnreadable?: boolean;
  /** kube-apiserver command-line flags from a visible static pod (kubeadm-style clusters). */
  apiServerFlags?: string[];
  /** Webhook backends (namespace of the service) found in webhook configurations. */
  webhookNamespaces: string[];
}

/** Something that could not be read. Never treated as compliant. */
export interface UnknownEntry {
  /** `pods`, `networkpolicies.networking.k8s.io`. */
  resource: string;
  namespace?: string;
  reason: 'Forbidden' | 'Unauthorized' | 'Timeout' | 'Error' | 'NotServed' | 'Unsupported';
  message: string;
}

export interface Snapshot {
  source: SourceInfo;
  serverVersion?: ServerVersion;
  /** ISO time the snapshot finished. */
  takenAt: string;
  namespaces: NamespaceInfo[];
  workloads: Workload[];
  serviceAccounts: ServiceAccountInfo[];
  roles: RoleInfo[];
  bindings: BindingInfo[];
  networkPolicies: NetworkPolicyInfo[];
  admissionPolicies: AdmissionPolicyInfo[];
  dns?: DnsServiceInfo;
  controlPlane: ControlPlaneHints;
  /** What the default-deny planner needs beyond the rest (phase 3). Absent in snapshots built before it. */
  network?: NetworkFacts;
  /** Legacy ServiceAccount token Secrets, metadata only (phase 4, src/inventory/sa-facts.ts). */
  serviceAccountFacts?: ServiceAccountFacts;
  /** The API server's own configuration as far as the API shows it (phase 6). Absent in snapshots built before it. */
  controlPlaneFacts?: ControlPlaneFacts;
  /** Whether Kyverno and Gatekeeper are installed (phase 5, src/inventory/admission-engines.ts). */
  admissionEngines?: AdmissionEngineFacts;
  unknown: UnknownEntry[];
  stats: { objects: Record<string, number>; pages: number; durationMs: number };
}

// ---- Network facts (phase 3): plain data the default-deny planner reads (src/policy/netpol/types.ts) ------------

type Labels = Record<string, string>;

/** A container port as declared in a pod spec (`core/v1` ContainerPort). */
export interface ContainerPortLite {
  name?: string;
  containerPort: number;
  /** Defaults to TCP. */
  protocol?: string;
}

/** A container, as far as CNI detection and port resolution need it. */
export interface NetpolContainer {
  name: string;
  image?: string;
  /** `command` + `args` (flags such as `--run-firewall=false`, `--enable-network-policy=true`). */
  args?: string[];
  ports?: ContainerPortLite[];
}

/** A Service (`core/v1`). Inventory: all Services of the scope, kube-system and the ingress/monitoring namespaces. */
export interface ServiceLite {
  namespace: string;
  name: string;
  labels?: Labels;
  /** Only `prometheus.io/*` annotations are read. */
  annotations?: Labels;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName' | string;
  /** Absent or empty: no selector (Endpoints managed by hand, or `default/kubernetes`). */
  selector?: Labels;
  clusterIPs?: string[];
  ports: Array<{ name?: string; port: number; protocol?: string; targetPort?: number | string }>;
}

/**
 * The API server's endpoints: EndpointSlices labelled `kubernetes.io/service-name=kubernetes` in `default`
 * (`kubernetes`, and `kubernetes-v4`/`-v6` in dual-stack), else the `default/kubernetes` Endpoints.
 * `unknown`: they could not be read.
 */
export interface ApiServerEndpoints {
  endpointSlices: Array<{
    name: string;
    addressType: 'IPv4' | 'IPv6' | 'FQDN' | string;
    endpoints: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
    ports: Array<{ name?: string; port?: number; protocol?: string }>;
  }>;
  endpoints?: {
    subsets: Array<{
      addresses?: Array<{ ip: string }>;
      ports?: Array<{ name?: string; port: number; protocol?: string }>;
    }>;
  };
  unknown?: boolean;
}

/**
 * A DaemonSet's pod template (all namespaces): CNI agents and NodeLocal DNSCache are found here. Inventory: every
 * DaemonSet cluster-wide, with container names, images and args.
 */
export interface DaemonSetLite {
  namespace: string;
  name: string;
  labels: Labels;
  hostNetwork?: boolean;
  containers: NetpolContainer[];
  initContainers?: NetpolContainer[];
}

/** Facts that say how a CNI is configured (inventory: these named ConfigMap keys and node annotations only). */
export interface CniConfigHints {
  /** `cilium-config` ConfigMap key `enable-policy` (`default` | `always` | `never`; the Helm chart renders it). */
  ciliumEnablePolicy?: string;
  /** `cilium-config` key `policy-cidr-match-mode` (`nodes`: ipBlock also matches node addresses). */
  ciliumPolicyCidrMatchMode?: string;
  /** `kube-system/amazon-vpc-cni` ConfigMap key `enable-network-policy-controller`. */
  awsEnableNetworkPolicyController?: string;
  /** Server gitVersion (`v1.31.2+k3s1`). */
  serverGitVersion?: string;
  /** Node annotation `k3s.io/node-args` (a JSON array), of any node. */
  k3sNodeArgs?: string[];
  /** Every node has `spec.podCIDR` (a hint, with no CNI agent, of kubenet or of a CNI inside the node). */
  nodesHavePodCidr?: boolean;
  /** DaemonSets could not be listed cluster-wide. */
  daemonSetsUnreadable?: boolean;
}

/** `networking.k8s.io/v1` Ingress, flattened to its backends. */
export interface IngressLite {
  namespace: string;
  name: string;
  ingressClassName?: string;
  annotations?: Labels;
  /** `spec.defaultBackend` and every `rules[].http.paths[].backend` with a `service`. */
  backends: Array<{ service: string; port: number | string }>;
}

/** `networking.k8s.io/v1` IngressClass. */
export interface IngressClassLite {
  name: string;
  controller: string;
  /** Annotation `ingressclass.kubernetes.io/is-default-class: "true"`. */
  isDefault?: boolean;
}

/** Gateway API (`gateway.networking.k8s.io/v1`). */
export interface GatewayClassLite {
  name: string;
  controllerName: string;
}
export interface GatewayLite {
  namespace: string;
  name: string;
  gatewayClassName: string;
}
export interface HttpRouteLite {
  namespace: string;
  name: string;
  /** Gateway parents only (`kind` Gateway, the default). `namespace` defaults to the route's. */
  parentRefs: Array<{ name: string; namespace?: string }>;
  /** Service backends only (`kind` Service, the default). `namespace` defaults to the route's. */
  backendRefs: Array<{ name: string; namespace?: string; port?: number }>;
}

/**
 * One webhook backend: `webhooks[].clientConfig.service` of a Validating/MutatingWebhookConfiguration, or
 * `spec.service` of an APIService. `port` defaults to 443 (`admissionregistration/v1` ServiceReference,
 * `apiregistration/v1` ServiceReference).
 */
export interface WebhookBackend {
  kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration' | 'APIService';
  configuration: string;
  /** The webhook's name (empty for an APIService). */
  webhook: string;
  service: { namespace: string; name: string; port?: number };
  failurePolicy?: string;
}

/** Prometheus Operator (`monitoring.coreos.com/v1`). Selectors: `null` matches nothing, `{}` everything. */
export interface PrometheusLite {
  namespace: string;
  name: string;
  serviceMonitorSelector?: LabelSelector | null;
  /** `null`/absent: the Prometheus's own namespace only. */
  serviceMonitorNamespaceSelector?: LabelSelector | null;
  podMonitorSelector?: LabelSelector | null;
  podMonitorNamespaceSelector?: LabelSelector | null;
}
/** `namespaceSelector` of a ServiceMonitor/PodMonitor: `any`, else `matchNames`, else its own namespace. */
export interface MonitorNamespaceSelector {
  any?: boolean;
  matchNames?: string[];
}
export interface ServiceMonitorLite {
  namespace: string;
  name: string;
  labels: Labels;
  selector: LabelSelector;
  namespaceSelector?: MonitorNamespaceSelector;
  /** `port`: a Service port name; `targetPort` (deprecated): a pod port. */
  endpoints: Array<{ port?: string; targetPort?: number | string }>;
}
export interface PodMonitorLite {
  namespace: string;
  name: string;
  labels: Labels;
  selector: LabelSelector;
  namespaceSelector?: MonitorNamespaceSelector;
  /** `port`: a container port name; `portNumber`; `targetPort` (deprecated). */
  podMetricsEndpoints: Array<{ port?: string; portNumber?: number; targetPort?: number | string }>;
}

/**
 * A workload outside the run's namespaces that the planner still needs (a narrowed run's kube-system DNS pods,
 * ingress controllers, monitoring): only its pod template's network-relevant parts.
 */
export interface OutsideWorkload {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  labels: Labels;
  selector?: LabelSelector;
  serviceAccount: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  containers: NetpolContainer[];
}

/**
 * Network facts, collected in the same pass as the rest with a fixed number of cluster-wide lists and named GETs
 * (never per object, never a ConfigMap list). A list that was refused leaves an entry in `Snapshot.unknown` and the
 * field empty; a kind the server does not serve (Gateway API, Prometheus Operator) is simply empty.
 */
export interface NetworkFacts {
  services: ServiceLite[];
  apiServer: ApiServerEndpoints;
  daemonSets: DaemonSetLite[];
  cniConfig: CniConfigHints;
  /** The kubelet's `clusterDNS` (kubeadm's `kube-system/kubelet-config`), when readable. */
  clusterDnsIPs?: string[];
  ingresses: IngressLite[];
  ingressClasses: IngressClassLite[];
  gatewayClasses: GatewayClassLite[];
  gateways: GatewayLite[];
  httpRoutes: HttpRouteLite[];
  webhooks: WebhookBackend[];
  prometheuses: PrometheusLite[];
  serviceMonitors: ServiceMonitorLite[];
  podMonitors: PodMonitorLite[];
  /** Narrowed runs (-n): workloads of other namespaces (kube-system, ingress, monitoring), for peer selection. */
  outsideWorkloads: OutsideWorkload[];
  /** A narrowed run could not list Deployments/StatefulSets cluster-wide: `outsideWorkloads` is incomplete. */
  outsideWorkloadsUnreadable?: boolean;
}
