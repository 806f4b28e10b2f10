/**
 * Inputs and outputs of the default-deny planner (phase 3, issue 11). Plain data: the inventory fills the inputs
 * (see the list of what it must collect in each interface's comment), the step turns the outputs into changes.
 * Nothing here reads a cluster.
 */
import type {
  ApiServerEndpoints,
  BindingInfo,
  CniConfigHints,
  DaemonSetLite,
  GatewayClassLite,
  GatewayLite,
  HttpRouteLite,
  IngressClassLite,
  IngressLite,
  LabelSelector,
  NetpolContainer,
  NetworkPolicyInfo,
  PodMonitorLite,
  PrometheusLite,
  RoleInfo,
  ServiceLite,
  ServiceMonitorLite,
  WebhookBackend,
} from '../../inventory/types.js';

// The planner's input shapes are plain data the inventory collects (`Snapshot.network`); they live there.
export type {
  ApiServerEndpoints,
  CniConfigHints,
  ContainerPortLite,
  DaemonSetLite,
  GatewayClassLite,
  GatewayLite,
  HttpRouteLite,
  IngressClassLite,
  IngressLite,
  LabelSelector,
  MonitorNamespaceSelector,
  NetpolContainer,
  NetworkPolicyInfo,
  PodMonitorLite,
  PrometheusLite,
  ServiceLite,
  ServiceMonitorLite,
  WebhookBackend,
} from '../../inventory/types.js';

export type Labels = Record<string, string>;
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

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
