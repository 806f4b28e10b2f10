/**
 * A synthetic phase-1 step that proposes one change of each kind: an apply, a delete and a manual change with an
 * artifact (no real step produces manual changes yet). Its artifact is YAML with list items, whose `- ` lines
 * must not read as removed lines.
 */
import type { Change, Step } from '../../../src/engine/types.js';

export const RBAC_REF = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  namespace: 'legacy-batch',
  name: 'batch-runner-admin',
};

export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  - level: None
`;

export const INSTRUCTIONS =
  'Copy audit-policy.yaml to /etc/kubernetes/ on every control-plane node and start kube-apiserver with --audit-policy-file.';

export function syntheticStep(): Step<never> {
  const changes: Change[] = [
    {
      kind: 'apply',
      id: 'synthetic/namespace/shop',
      risk: 'low',
      reason: 'label the shop namespace',
      target: { apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
      desired: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'shop', labels: { 'example.com/synthetic': 'yes' } },
      },
    },
    {
      kind: 'delete',
      id: 'synthetic/rolebinding/batch-runner-admin',
      risk: 'disruptive',
      reason: 'the batch runner is bound to admin: remove the binding',
      target: RBAC_REF,
    },
    {
      kind: 'manual',
      id: 'synthetic/audit-policy',
      risk: 'manual',
      reason: 'the API server has no audit policy',
      artifact: { path: 'audit-policy.yaml', content: AUDIT_POLICY },
      instructions: INSTRUCTIONS,
    },
  ];
  const step: Step<Record<string, never>> = {
    id: 'synthetic',
    phase: 1,
    title: 'Synthetic changes',
    summary: 'one change of each kind',
    risk: 'disruptive',
    permissions: () => [],
    targets: [
      { manual: true },
      { apiVersion: 'v1', kind: 'ConfigMap', operations: ['create', 'update'], anyField: true },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', operations: ['delete'] },
    ],
    detect: async () => ({ facts: {}, findings: [] }),
    propose: () => changes,
    explain: () => ({ why: 'A step with every kind of change.', impact: 'None.', rollback: 'Undo.' }),
  };
  return step as unknown as Step<never>;
}
