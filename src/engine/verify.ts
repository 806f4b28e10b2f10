/**
 * After a run: each step that changed something checks the result (read-only; e.g. FailedCreate events after
 * enforce). Used by the store for the wizard, `apply --plan` and `migrate` alike.
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterWriter } from '../cluster/types.js';
import { list, map } from '../k8s/json.js';
import { describeRef, type KubeObject, type ObjectRef } from '../k8s/types.js';
import type { ChangeOutcome } from './apply.js';
import type {
  AppliedChange,
  Plan,
  PodProbe,
  PodProbeResult,
  Step,
  StepContext,
  Verification,
} from './types.js';

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

/**
 * The image of phase 3's DNS probe unless `--probe-image` names another: it needs `sh` and BIND's `dig` (UDP and
 * TCP queries). Pinned by tag; the one Kubernetes' own DNS e2e tests run.
 */
export const DEFAULT_PROBE_IMAGE = 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Why a Pod is where it is, in one line: the failed container's end, or what keeps it Pending. */
export function podDetail(pod: KubeObject | undefined): { phase: PodProbeResult['phase']; detail: string } {
  const status = map(pod?.status);
  const phase = (typeof status.phase === 'string' ? status.phase : 'Pending') as PodProbeResult['phase'];
  const containers = list(status.containerStatuses);
  const ended = containers.map((c) => map(map(c.state).terminated)).find((t) => Object.keys(t).length > 0);
  const waiting = containers.map((c) => map(map(c.state).waiting)).find((w) => Object.keys(w).length > 0);
  const words = (o: Record<string, unknown>, ...keys: string[]) =>
    keys
      .map((k) => o[k])
      .filter((v) => v !== undefined && v !== '')
      .map(String)
      .join(': ')
      .trim();
  if (phase === 'Succeeded' || phase === 'Failed') {
    const end = ended
      ? `exit code ${String(ended.exitCode ?? '?')}${ended.reason ? ` (${String(ended.reason)})` : ''}`
      : '';
    const message =
      ended && typeof ended.message === 'string'
        ? ended.message.trim().split('\n').slice(-5).join(' | ')
        : '';
    return { phase, detail: [end, message].filter(Boolean).join(': ') || words(status, 'reason', 'message') };
  }
  if (phase === 'Pending') {
    const scheduled = list(status.conditions).find((c) => c.type === 'PodScheduled');
    if (!scheduled) return { phase, detail: 'not scheduled: no scheduler has placed it on a node' };
    if (scheduled.status !== 'True')
      return { phase, detail: `not scheduled: ${words(scheduled, 'reason', 'message')}` };
    if (waiting) return { phase, detail: `container waiting: ${words(waiting, 'reason', 'message')}` };
    return { phase, detail: `scheduled on ${String(map(pod?.spec).nodeName ?? 'a node')}, not started` };
  }
  return { phase, detail: words(status, 'reason', 'message') || `phase ${phase}` };
}

/**
 * The Pod runner of `apply --probe`: creates the Pod (server-side apply, field manager kube-harden; the API server
 * admits it like any other, Pod Security included), waits until it ends or `timeoutMs` passes, and always deletes
 * it (also when interrupted or when reading it fails). Never journaled: it exists only while it runs.
 */
export function podProbe(
  writer: ClusterWriter,
  options: { image: string; timeoutMs: number; pollMs?: number; now?: () => number },
): PodProbe {
  const now = options.now ?? (() => Date.now());
  const pollMs = options.pollMs ?? 1000;
  return {
    image: options.image,
    timeoutMs: options.timeoutMs,
    async run(pod, signal) {
      const ref: ObjectRef = {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: pod.metadata.namespace as string,
        name: pod.metadata.name,
      };
      try {
        await writer.apply(pod, { fieldManager: 'kube-harden', signal });
      } catch (error) {
        if (!isClusterError(error)) throw error;
        return { phase: 'NotCreated', detail: error.message, deleted: true };
      }
      let seen: { phase: PodProbeResult['phase']; detail: string } = {
        phase: 'Pending',
        detail: 'not read yet',
      };
      let deleted = false;
      try {
        const deadline = now() + options.timeoutMs;
        for (;;) {
          const { value } = await writer.get(ref, signal);
          seen = podDetail(value);
          if (seen.phase === 'Succeeded' || seen.phase === 'Failed') break;
          if (now() >= deadline || signal.aborted) break;
          await sleep(Math.min(pollMs, Math.max(0, deadline - now())), signal);
        }
      } catch (error) {
        if (!isClusterError(error)) throw error;
        seen = { phase: 'Unknown', detail: `could not read it: ${error.message}` };
      } finally {
        // Always deleted, even after an interrupt (with a fresh signal: the run's may be aborted).
        deleted = await deletePod(writer, ref);
      }
      return { ...seen, deleted };
    },
  };
}

async function deletePod(writer: ClusterWriter, ref: ObjectRef): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writer.delete(ref, { signal: AbortSignal.timeout(15_000) });
      return true;
    } catch (error) {
      if (!isClusterError(error)) throw error;
      if (error.reason === 'NotFound') return true;
    }
  }
  return false;
}
