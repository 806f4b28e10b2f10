/**
 * The kinds kube-harden reads or writes, with their REST names. Unknown kinds are resolved through API
 * discovery by the live source; the manifest source accepts any kind.
 */
import type { KindRef } from './types.js';

export interface KindInfo extends KindRef {
  group: string;
  version: string;
  /** Plural resource name in the URL. */
  resource: string;
  namespaced: boolean;
}

function k(apiVersion: string, kind: string, resource: string, namespaced: boolean): KindInfo {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return { apiVersion, kind, group, version, resource, namespaced };
}

export const Kinds = {
  Namespace: k('v1', 'Namespace', 'namespaces', false),
  Pod: k('v1', 'Pod', 'pods', true),
  ServiceAccount: k('v1', 'ServiceAccount', 'serviceaccounts', true),
  Service: k('v1', 'Service', 'services', true),
  Secret: k('v1', 'Secret', 'secrets', true),
  ConfigMap: k('v1', 'ConfigMap', 'configmaps', true),
  Event: k('v1', 'Event', 'events', true),
  ReplicationController: k('v1', 'ReplicationController', 'replicationcontrollers', true),
  Node: k('v1', 'Node', 'nodes', false),
  Deployment: k('apps/v1', 'Deployment', 'deployments', true),
  StatefulSet: k('apps/v1', 'StatefulSet', 'statefulsets', true),
  DaemonSet: k('apps/v1', 'DaemonSet', 'daemonsets', true),
  ReplicaSet: k('apps/v1', 'ReplicaSet', 'replicasets', true),
  Job: k('batch/v1', 'Job', 'jobs', true),
  CronJob: k('batch/v1', 'CronJob', 'cronjobs', true),
  NetworkPolicy: k('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true),
  LimitRange: k('v1', 'LimitRange', 'limitranges', true),
  ResourceQuota: k('v1', 'ResourceQuota', 'resourcequotas', true),
  Role: k('rbac.authorization.k8s.io/v1', 'Role', 'roles', true),
  RoleBinding: k('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
  ClusterRole: k('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: k('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  ValidatingAdmissionPolicy: k(
    'admissionregistration.k8s.io/v1',
    'ValidatingAdmissionPolicy',
    'validatingadmissionpolicies',
    false,
  ),
  ValidatingAdmissionPolicyBinding: k(
    'admissionregistration.k8s.io/v1',
    'ValidatingAdmissionPolicyBinding',
    'validatingadmissionpolicybindings',
    false,
  ),
  ValidatingWebhookConfiguration: k(
    'admissionregistration.k8s.io/v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
  ),
  MutatingWebhookConfiguration: k(
    'admissionregistration.k8s.io/v1',
    'MutatingWebhookConfiguration',
    'mutatingwebhookconfigurations',
    false,
  ),
  Endpoints: k('v1', 'Endpoints', 'endpoints', true),
  EndpointSlice: k('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', true),
  Ingress: k('networking.k8s.io/v1', 'Ingress', 'ingresses', true),
  IngressClass: k('networking.k8s.io/v1', 'IngressClass', 'ingressclasses', false),
  APIService: k('apiregistration.k8s.io/v1', 'APIService', 'apiservices', false),
} as const satisfies Record<string, KindInfo>;

/**
 * Kinds of add-ons that a cluster may not serve (Gateway API, Prometheus Operator). Deliberately outside the
 * catalog: the live source then resolves them through API discovery, which every authenticated user may read, so a
 * kind that is not served is told apart from one that is forbidden (a forbidden list would hide a 404).
 */
export const OptionalKinds = {
  GatewayClass: k('gateway.networking.k8s.io/v1', 'GatewayClass', 'gatewayclasses', false),
  Gateway: k('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', true),
  HTTPRoute: k('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes', true),
  Prometheus: k('monitoring.coreos.com/v1', 'Prometheus', 'prometheuses', true),
  ServiceMonitor: k('monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors', true),
  PodMonitor: k('monitoring.coreos.com/v1', 'PodMonitor', 'podmonitors', true),
} as const satisfies Record<string, KindInfo>;

const byKey = new Map<string, KindInfo>(
  Object.values(Kinds).map((info) => [`${info.apiVersion}/${info.kind}`, info]),
);

/** The catalog entry of a kind, if kube-harden knows it. */
export function kindInfo(ref: KindRef): KindInfo | undefined {
  return byKey.get(`${ref.apiVersion}/${ref.kind}`);
}

/** `deployments.apps`, `pods`: how kubectl and RBAC messages name a resource. */
export function resourceName(info: Pick<KindInfo, 'group' | 'resource'>): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

/** The resources a namespace's workloads come from (`pods`, `deployments.apps`, …), named as unknowns name them. */
export const WORKLOAD_RESOURCES: readonly string[] = [
  Kinds.Pod,
  Kinds.Deployment,
  Kinds.StatefulSet,
  Kinds.DaemonSet,
  Kinds.ReplicaSet,
  Kinds.Job,
  Kinds.CronJob,
  Kinds.ReplicationController,
].map(resourceName);
