/** Plan given steps on a live cluster in-process (inventory of `namespaces`, assessment, previews), as `plan` does. */
import { type LiveCluster, readOnly } from '../../src/cluster/live.js';
import { buildPlan } from '../../src/engine/plan.js';
import type { Plan, Step, StepOptions } from '../../src/engine/types.js';
import { buildSnapshot } from '../../src/inventory/build.js';
import { assess } from '../../src/policy/assess.js';

export async function planWith(cluster: LiveCluster, steps: Step[], namespaces: string[]): Promise<Plan> {
  const reader = readOnly(cluster);
  const snapshot = await buildSnapshot(reader, { namespaces });
  const now = new Date();
  const options: StepOptions = { namespaces, exclude: [], settings: {}, now };
  return buildPlan(reader, snapshot, { steps, options, assessment: assess(snapshot, { now }) });
}
