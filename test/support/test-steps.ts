/** Test-only steps (never registered in steps/): they propose exactly the changes a test gives them. */
import type { Change, Step } from '../../src/engine/types.js';

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
    detect: async () => ({ facts: changes, findings: [] }),
    propose: (facts) => facts,
    explain: () => ({ why: 'test', impact: 'test', rollback: 'kube-harden undo' }),
  };
}
