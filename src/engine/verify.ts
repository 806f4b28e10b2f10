/**
 * After a run: each step that changed something checks the result (read-only; e.g. FailedCreate events after
 * enforce). Used by the store for the wizard, `apply --plan` and `migrate` alike.
 */
import { isClusterError } from '../cluster/errors.js';
import { describeRef } from '../k8s/types.js';
import type { ChangeOutcome } from './apply.js';
import type { AppliedChange, Plan, Step, StepContext, Verification } from './types.js';

/** What verification needs of an apply outcome. */
export type VerifiableOutcome = Pick<ChangeOutcome, 'id' | 'step' | 'outcome' | 'object' | 'at'>;

/** The changes of `stepId` the run applied, with the objects the API server returned, in outcome order. */
export function appliedChanges(
  plan: Plan,
  outcomes: readonly VerifiableOutcome[],
  stepId: string,
  now: () => Date = () => new Date(),
): AppliedChange[] {
  const applied: AppliedChange[] = [];
  for (const o of outcomes) {
    if (o.step !== stepId || o.outcome !== 'applied') continue;
    const planned = plan.changes.find((c) => c.id === o.id);
    if (!planned) continue;
    applied.push({
      change: planned,
      ...(o.object ? { result: o.object } : {}),
      appliedAt: o.at ?? now().toISOString(),
    });
  }
  return applied;
}

type VerifyContext = Omit<StepContext, 'signal'> & { signal?: AbortSignal };

/**
 * Runs `verify` of every step (in rollout order) that has one and applied at least one change in this run.
 * Steps without applied changes are not verified (there is nothing of theirs to check). The context may be given
 * lazily (`apply --plan` takes a fresh snapshot only when some step has something to verify). A step that cannot
 * read what it needs is reported as not verified, naming the objects to check by hand: never as verified.
 */
export async function verifyRun(
  steps: readonly Step<never>[],
  plan: Plan,
  outcomes: readonly VerifiableOutcome[],
  context: VerifyContext | (() => Promise<VerifyContext>),
): Promise<Record<string, Verification>> {
  const verifications: Record<string, Verification> = {};
  let ctx: VerifyContext | undefined = typeof context === 'function' ? undefined : context;
  for (const step of steps) {
    if (!step.verify) continue;
    const applied = appliedChanges(plan, outcomes, step.id);
    if (applied.length === 0) continue;
    ctx ??= await (context as () => Promise<VerifyContext>)();
    try {
      verifications[step.id] = await step.verify(
        { ...ctx, signal: ctx.signal ?? new AbortController().signal },
        applied,
      );
    } catch (error) {
      if (!isClusterError(error)) throw error;
      const what = applied
        .map((a) => (a.change.target ? describeRef(a.change.target) : a.change.id))
        .join(', ');
      verifications[step.id] = {
        ok: false,
        messages: [`could not verify: ${error.message}; check ${what} by hand`],
      };
    }
  }
  return verifications;
}
