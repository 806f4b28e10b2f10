/**
 * One step on a fixture snapshot, as `plan` runs it before any preview: detect (on the snapshot assessed at the
 * fixtures' NOW), propose, explain; and a proposed change as a plan would hold it after an offline preview.
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import type { Change, PlannedChange, Step, StepContext, StepOptions } from '../../src/engine/types.js';
import type { Snapshot } from '../../src/inventory/types.js';
import { assess } from '../../src/policy/assess.js';
import { NOW } from '../fixtures/snapshots/builder.js';

/** A reader with no dry-run and no access reviews, that reads nothing (the step works from the snapshot). */
export const OFFLINE_READER = { capabilities: { dryRun: false, reviews: false } } as unknown as ClusterReader;

/**
 * The step's facts, findings, unknowns, changes and explanation; options default to all namespaces, no settings,
 * NOW.
 */
export async function runStep<F>(
  step: Step<F>,
  snap: Snapshot,
  opts: Partial<StepOptions> & { reader?: ClusterReader } = {},
) {
  const { reader = OFFLINE_READER, ...given } = opts;
  const options: StepOptions = { namespaces: [], exclude: [], settings: {}, now: NOW, ...given };
  const ctx: StepContext = {
    snapshot: snap,
    assessment: assess(snap, { now: NOW }),
    reader,
    options,
    signal: new AbortController().signal,
  };
  const { facts, findings, unknown } = await step.detect(ctx);
  const changes = step.propose(facts, options);
  return { facts, findings, unknown, changes, explanation: step.explain(facts, changes) };
}

/**
 * A change of `step` (phase `phase`) as a plan holds it after an offline preview: no live object (no base
 * resourceVersion), an empty diff, no warnings. An apply is a `create` unless `operation` says otherwise.
 */
export function offlinePlanned(
  change: Change,
  at: { step: string; phase: number; operation?: 'create' | 'update' },
): PlannedChange {
  const base = {
    id: change.id,
    step: at.step,
    phase: at.phase,
    risk: change.risk,
    reason: change.reason,
    notes: change.notes ?? [],
    baseResourceVersion: null,
    diff: { text: '', added: 0, removed: 0 },
    warnings: [],
    preview: 'offline' as const,
  };
  switch (change.kind) {
    case 'apply':
      return {
        ...base,
        kind: 'apply',
        operation: at.operation ?? 'create',
        target: change.target,
        desired: change.desired,
      };
    case 'delete':
      return { ...base, kind: 'delete', operation: 'delete', target: change.target };
    case 'manual':
      return {
        ...base,
        kind: 'manual',
        operation: 'manual',
        artifact: change.artifact,
        instructions: change.instructions,
      };
  }
}
