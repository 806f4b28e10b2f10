/** detect → propose → preview for the selected steps, in rollout order: the Plan. */

import type { ClusterReader } from '../cluster/types.js';
import { mapBounded } from '../concurrency.js';
import type { Snapshot } from '../inventory/types.js';
import type { Assessment } from '../policy/assess.js';
import { newRunId } from './journal.js';
import { previewChange } from './preview.js';
import type { Plan, PlannedChange, PlannedStep, Step, StepOptions } from './types.js';

export interface PlanProgress {
  step: string;
  stage: 'detect' | 'propose' | 'preview';
  done: number;
  total: number;
}

export interface BuildPlanOptions {
  steps: Step[];
  options: StepOptions;
  assessment: Assessment;
  signal?: AbortSignal;
  onProgress?: (p: PlanProgress) => void;
  /** Previews in flight at once (the transport's rate limit still applies). */
  concurrency?: number;
  planId?: string;
}

export async function buildPlan(
  reader: ClusterReader,
  snapshot: Snapshot,
  opts: BuildPlanOptions,
): Promise<Plan> {
  const signal = opts.signal ?? new AbortController().signal;
  const id = opts.planId ?? newRunId(opts.options.now);
  const steps: PlannedStep[] = [];
  const changes: PlannedChange[] = [];
  const stepUnknown: Plan['unknown'] = [];
  const ordered = [...opts.steps].sort((a, b) => a.phase - b.phase);
  for (const step of ordered) {
    signal.throwIfAborted();
    opts.onProgress?.({ step: step.id, stage: 'detect', done: 0, total: 1 });
    const ctx = { snapshot, assessment: opts.assessment, reader, options: opts.options, signal };
    const { facts, findings, unknown } = await step.detect(ctx);
    if (unknown) stepUnknown.push(...unknown);
    const proposed = step.propose(facts, opts.options);
    const planned: PlannedStep = {
      id: step.id,
      phase: step.phase,
      title: step.title,
      risk: step.risk,
      explanation: step.explain(facts, proposed),
      findings,
      noops: [],
    };
    steps.push(planned);
    let done = 0;
    const results = await mapBounded(proposed, opts.concurrency ?? 8, async (change) => {
      signal.throwIfAborted();
      const outcome = await previewChange(change, {
        reader,
        runId: id,
        step: step.id,
        phase: step.phase,
        signal,
      });
      opts.onProgress?.({ step: step.id, stage: 'preview', done: ++done, total: proposed.length });
      if ('noop' in outcome) {
        planned.noops.push(outcome.noop);
        return undefined;
      }
      return outcome.planned;
    });
    planned.noops.sort((a, b) => a.id.localeCompare(b.id));
    for (const r of results) if (r) changes.push(r);
  }
  const plan: Plan = {
    schemaVersion: 1,
    id,
    createdAt: opts.options.now.toISOString(),
    source: reader.source,
    steps,
    changes,
    unknown: [...snapshot.unknown, ...stepUnknown].map((u) => ({ ...u })),
  };
  if (snapshot.serverVersion) plan.serverVersion = snapshot.serverVersion;
  return plan;
}
