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

/** One RBAC rule (`rbac.authorization.k8s.io/v1` PolicyRule, resource rules only). */
export interface ReadRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * The RBAC rules that grant exactly the inventory's reads (`INVENTORY_KINDS` listed, `INVENTORY_GETS` got by
 * name), from the same declarations as `inventoryAccessChecks`: what a read-only ServiceAccount running
 * `kube-harden report` needs (the ClusterRole `kube-harden schedule` writes). Discovery, `/version` and
 * SelfSubjectReview are every authenticated user's already (system:discovery, system:basic-user).
 */
export function inventoryReadRules(): ReadRule[] {
  const rules: ReadRule[] = [];
  for (const k of INVENTORY_KINDS) {
    const rule = rules.find((r) => r.apiGroups[0] === k.group && r.verbs[0] === 'list');
    if (rule) {
      if (!rule.resources.includes(k.resource)) rule.resources.push(k.resource);
    } else rules.push({ apiGroups: [k.group], resources: [k.resource], verbs: ['list'] });
  }
  for (const g of INVENTORY_GETS) {
    const rule = rules.find(
      (r) => r.apiGroups[0] === g.group && r.resources[0] === g.resource && r.verbs[0] === 'get',
    );
    if (rule) {
      if (!rule.resourceNames?.includes(g.name)) rule.resourceNames?.push(g.name);
    } else
      rules.push({ apiGroups: [g.group], resources: [g.resource], verbs: ['get'], resourceNames: [g.name] });
  }
  return rules;
}
