/** The reads the inventory needs, as SelfSubjectAccessReview attributes (least privilege: no secrets). */
import { Kinds } from '../k8s/kinds.js';
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
] as const;

export function inventoryAccessChecks(namespace?: string): AccessCheck[] {
  return INVENTORY_KINDS.map((k) => ({
    verb: 'list',
    group: k.group,
    resource: k.resource,
    ...(namespace && k.namespaced ? { namespace } : {}),
  }));
}
