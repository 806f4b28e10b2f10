/**
 * Inputs and outputs of the default-deny planner (phase 3, issue 11). Plain data: the inventory fills the inputs
 * (see the list of what it must collect in each interface's comment), the step turns the outputs into changes.
 * Nothing here reads a cluster.
 */
import type { BindingInfo, LabelSelector, NetworkPolicyInfo, RoleInfo } from '../../inventory/types.js';

export type { LabelSelector, NetworkPolicyInfo };

export type Labels = Record<string, string>;
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

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

/**
 * The pods of one top-level workload (or a bare pod), seen through its pod template. Inventory: every workload
 * of the namespaces in scope, plus those of kube-system (DNS), the ingress controllers' and the monitoring
 * namespaces (they are selected by labels from other namespaces).
 */
export interface PodGroup {
  namespace: string;
  workload: { kind: string; name: string };
  /** Pod template labels. */
  labels: Labels;
  annotations?: Labels;
  /**
   * The workload's `spec.selector` (immutable for Deployments, StatefulSets and DaemonSets): the stable way to
   * select its pods as a NetworkPolicy peer. Absent: the template labels minus version-like labels are used.
   */
  selector?: LabelSelector;
  serviceAccount: string;
  /**
   * Whether the pods get a token the API server accepts: `automountServiceAccountToken` (pod, else
   * ServiceAccount, else true; `tokenDecision`) or a projected `serviceAccountToken` volume without an audience.
   */
  apiToken: boolean | 'unknown';
  hostNetwork?: boolean;
  containers: NetpolContainer[];
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

export interface RbacLite {
  roles: readonly RoleInfo[];
  bindings: readonly BindingInfo[];
  /** Roles or bindings could not be read: every pod with a token is treated as an API client. */
  unknown?: boolean;
}

/** Everything the planner reads. */
export interface NetpolInput {
  namespaces: Array<{ name: string; labels: Labels }>;
  pods: PodGroup[];
  services: ServiceLite[];
  /** Existing NetworkPolicies of the namespaces in scope (as in the Snapshot). */
  networkPolicies: NetworkPolicyInfo[];
  /** Namespaces whose NetworkPolicies could not be read. */
  networkPoliciesUnknown?: string[];
  daemonSets: DaemonSetLite[];
  cniConfig?: CniConfigHints;
  /** The kubelet's `clusterDNS` addresses (KubeletConfiguration, e.g. `kube-system/kubelet-config`), if known. */
  clusterDnsIPs?: string[];
  apiServer: ApiServerEndpoints;
  rbac: RbacLite;
  ingresses?: IngressLite[];
  ingressClasses?: IngressClassLite[];
  gatewayClasses?: GatewayClassLite[];
  gateways?: GatewayLite[];
  httpRoutes?: HttpRouteLite[];
  webhooks?: WebhookBackend[];
  prometheuses?: PrometheusLite[];
  serviceMonitors?: ServiceMonitorLite[];
  podMonitors?: PodMonitorLite[];
}

export type SameNamespace = 'isolated' | 'namespace';

export interface NetpolOptions {
  /** Namespaces to default-deny. */
  namespaces: readonly string[];
  /** @default 'namespace' */
  sameNamespace?: SameNamespace;
}

/** A `networking.k8s.io/v1` NetworkPolicy, as plain JSON (the shape the API server takes). */
export interface NetworkPolicyPeerObject {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface NetworkPolicyPortObject {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface NetworkPolicyObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace: string; labels: Labels };
  spec: {
    podSelector: LabelSelector;
    policyTypes: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from?: NetworkPolicyPeerObject[]; ports?: NetworkPolicyPortObject[] }>;
    egress?: Array<{ to?: NetworkPolicyPeerObject[]; ports?: NetworkPolicyPortObject[] }>;
  };
}

export type PolicyPurpose =
  | 'default-deny'
  | 'dns'
  | 'apiserver'
  | 'same-namespace'
  | 'service'
  | 'ingress'
  | 'ingress-egress'
  | 'external'
  | 'webhook'
  | 'monitoring'
  | 'monitoring-egress';

export interface DesiredPolicy {
  name: string;
  namespace: string;
  purpose: PolicyPurpose;
  /** One line: why this policy exists. */
  explanation: string;
  object: NetworkPolicyObject;
}

export interface NamespacePlan {
  namespace: string;
  /** Coverage by the namespace's existing policies (kube-harden's own excluded), per direction. */
  existing: {
    ingress: 'denied' | 'open' | 'none' | 'unknown';
    egress: 'denied' | 'open' | 'none' | 'unknown';
  };
  /** Whether each direction is default-denied once the plan is applied. */
  denied: { ingress: boolean; egress: boolean };
  /** Default deny first, then by name. */
  policies: DesiredPolicy[];
  /** What kube-harden refuses to propose here, and why (e.g. no egress deny without a DNS Service). */
  refusals: string[];
  notes: string[];
}
