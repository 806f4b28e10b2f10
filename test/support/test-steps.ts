/** Test-only steps (never registered in steps/): they propose exactly the changes a test gives them. */
import type { TargetRule } from '../../src/engine/targets.js';
import type { Change, Step } from '../../src/engine/types.js';

/** What test steps may write when a saved plan is applied: ConfigMaps, Namespaces and Secrets, any field; manual changes. */
export const TEST_TARGETS: readonly TargetRule[] = [
  { manual: true },
  ...(
    [
      ['v1', 'ConfigMap'],
      ['v1', 'Namespace'],
      ['v1', 'Secret'],
    ] as const
  ).map(
    ([apiVersion, kind]): TargetRule => ({
      apiVersion,
      kind,
      operations: ['create', 'update', 'delete'],
      anyField: true,
    }),
  ),
];

export function fixedStep(
  id: string,
  phase: number,
  changes: Change[],
  risk: Step['risk'] = 'low',
): Step<Change[]> {
  return {
    id,
    phase,
    title: `test step ${id}`,
    summary: 'test-only',
    risk,
    permissions: () => [],
    targets: TEST_TARGETS,
    detect: async () => ({ facts: changes, findings: [] }),
    propose: (facts) => facts,
    explain: () => ({ why: 'test', impact: 'test', rollback: 'kube-harden undo' }),
  };
}

/** A change that sets labels on Namespace `ns` (server-side apply of just those labels). */
export function labelChange(
  id: string,
  ns: string,
  labels: Record<string, string>,
  risk: Change['risk'] = 'low',
): Change {
  return {
    kind: 'apply',
    id,
    target: { apiVersion: 'v1', kind: 'Namespace', name: ns },
    desired: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    risk,
    reason: 'test',
  };
}
