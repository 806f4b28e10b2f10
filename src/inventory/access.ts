/** The reads the inventory needs, as SelfSubjectAccessReview attributes (least privilege: no secrets). */
import { Kinds, OptionalKinds } from '../k8s/kinds.js';
import type { AccessCheck } from '../k8s/types.js';

export const INVENTORY_KINDS = [
  Kinds.Namespace,
  Kinds.Pod,
  Kinds.Deployment,
  Kinds.StatefulSet,
  Kinds.DaemonSet,
  Kinds.ReplicaSet,
  Kinds.Job,
  Kinds.CronJob,
  Kinds.ReplicationController,
  Kinds.ServiceAccount,
  Kinds.Role,
  Kinds.RoleBinding,
  Kinds.ClusterRole,
  Kinds.ClusterRoleBinding,
  Kinds.NetworkPolicy,
  Kinds.ValidatingAdmissionPolicy,
  Kinds.ValidatingAdmissionPolicyBinding,
  Kinds.ValidatingWebhookConfiguration,
  Kinds.MutatingWebhookConfiguration,
  // Network facts (phase 3, network-facts.ts). Gateway API and Prometheus Operator kinds are read when served.
  Kinds.Service,
  Kinds.EndpointSlice,
  Kinds.Ingress,
  Kinds.IngressClass,
  Kinds.Node,
  Kinds.APIService,
  OptionalKinds.GatewayClass,
  OptionalKinds.Gateway,
  OptionalKinds.HTTPRoute,
  OptionalKinds.Prometheus,
  OptionalKinds.ServiceMonitor,
  OptionalKinds.PodMonitor,
] as const;

/** Named objects the inventory reads with GET (never a list: ConfigMaps may be large or hold sensitive data). */
export const INVENTORY_GETS = [
  { group: '', resource: 'endpoints', namespace: 'default', name: 'kubernetes' },
  { group: '', resource: 'services', namespace: 'kube-system', name: 'kube-dns' },
  { group: '', resource: 'configmaps', namespace: 'kube-system', name: 'cilium-config' },
  { group: '', resource: 'configmaps', namespace: 'kube-system', name: 'amazon-vpc-cni' },
  { group: '', resource: 'configmaps', namespace: 'kube-system', name: 'kubelet-config' },
] as const;

export function inventoryAccessChecks(namespace?: string): AccessCheck[] {
  return [
    ...INVENTORY_KINDS.map((k) => ({
      verb: 'list',
      group: k.group,
      resource: k.resource,
      ...(namespace && k.namespaced ? { namespace } : {}),
    })),
    ...INVENTORY_GETS.map((g) => ({ verb: 'get', ...g })),
  ];
}
