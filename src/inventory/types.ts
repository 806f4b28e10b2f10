/**
 * The Snapshot: one normalized, read-only picture of a cluster (or a manifests directory), built in one pass.
 * Evaluators and steps read it; they never list the cluster again. Only the fields the evaluators need are kept
 * (see `project.ts`), so 10,000 pods fit in a few MB.
 */
import type { ServerVersion, SourceInfo } from '../k8s/types.js';

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
  unknown: UnknownEntry[];
  stats: { objects: Record<string, number>; pages: number; durationMs: number };
}
