/**
 * Terraform's rule for saved plans: before applying, every target must be as the plan saw it. Drift is each
 * target whose resourceVersion moved since the plan was made (created, deleted or changed since), described for
 * people. A target that cannot be read is drift too (unknown is not "unchanged").
 */
import type { ClusterReader } from '../cluster/types.js';
import { describeRef } from '../k8s/types.js';
import { type LiveReads, liveOf } from './live-reads.js';
import type { Plan } from './types.js';

export async function planDrift(
  reader: ClusterReader,
  plan: Plan,
  signal?: AbortSignal,
  live?: LiveReads,
): Promise<string[]> {
  const moved: string[] = [];
  for (const c of plan.changes) {
    if (!c.target) continue;
    const read = await liveOf(reader, c.target, live, signal);
    if (!('value' in read)) {
      moved.push(`${describeRef(c.target)}: cannot be read (${read.forbidden.message})`);
      continue;
    }
    const rv = read.value?.metadata.resourceVersion ?? null;
    if (rv === c.baseResourceVersion) continue;
    moved.push(
      `${describeRef(c.target)}: ${
        c.baseResourceVersion === null
          ? 'created since the plan'
          : rv === null
            ? 'deleted since the plan'
            : `resourceVersion ${c.baseResourceVersion} → ${rv}`
      }`,
    );
  }
  return moved;
}
