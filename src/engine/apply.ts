/**
 * Apply confirmed changes, in step order. Before each write: re-read the target and refuse if its resourceVersion
 * moved since the preview (stale: re-preview, never write over someone else's change); journal the before-image
 * and the intended apply configuration (flushed); then server-side apply without force, with the previewed
 * resourceVersion as a precondition. Forbidden, stale and conflicting changes are reported per item; any other
 * failure stops the step and the steps after it. An aborted signal stops after the request in flight.
 */
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterWriter } from '../cluster/types.js';
import type { KubeObject } from '../k8s/types.js';
import { version } from '../version.js';
import { FIELD_MANAGER } from './bookkeeping.js';
import { extractOwned, mergeApply } from './fields.js';
import { beforeImage, Journal, type Outcome } from './journal.js';
import { redact } from './normalize.js';
import type { Plan, PlannedChange } from './types.js';

export type ChangeResult = Outcome | 'not-attempted';

export interface ChangeOutcome {
  id: string;
  step: string;
  outcome: ChangeResult;
  message?: string;
  resourceVersion?: string;
  /** The object as stored after a successful apply. */
  object?: KubeObject;
  conflicts?: Array<{ manager: string; field: string }>;
  /** When the outcome was known. */
  at?: string;
}

export type ApplyEvent =
  | { type: 'start'; change: PlannedChange; index: number; total: number }
  | { type: 'done'; change: PlannedChange; outcome: ChangeOutcome; index: number; total: number };

export interface ApplyOptions {
  /** Change ids the operator confirmed. Others are skipped. */
  confirmed: ReadonlySet<string>;
  /** Change ids whose conflicting fields the operator chose to take over (server-side apply with force). */
  takeOver?: ReadonlySet<string>;
  signal?: AbortSignal;
  onEvent?: (event: ApplyEvent) => void;
  env?: NodeJS.ProcessEnv;
}

export interface ApplyReport {
  runId: string;
  journalPath: string;
  state: 'complete' | 'interrupted' | 'failed';
  outcomes: ChangeOutcome[];
}

function now(): string {
  return new Date().toISOString();
}

export async function applyPlan(
  writer: ClusterWriter,
  plan: Plan,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const source = writer.source;
  if (source.kind !== 'cluster') throw new Error('applyPlan needs a live cluster');
  const runId = plan.id;
  const journal = Journal.create(source, runId, options.env);
  const changes = coalesce(plan.changes.filter((c) => options.confirmed.has(c.id) && c.kind !== 'manual'));
  journal.append({
    type: 'run',
    runId,
    startedAt: now(),
    context: source.context,
    server: source.server,
    steps: [...new Set(changes.map((c) => c.step))],
    planId: plan.id,
    tool: `kube-harden ${version()}`,
  });
  const outcomes: ChangeOutcome[] = [];
  // Objects this run already wrote: a later change to the same object was previewed against the version before
  // our own write, which is not someone else's change.
  const ownWrites = new Map<string, OwnWrite>();
  let state: ApplyReport['state'] = 'complete';
  let failedStep: string | undefined;
  try {
    for (let index = 0; index < changes.length; index++) {
      const change = changes[index] as PlannedChange;
      if (state !== 'complete' || failedStep !== undefined) {
        outcomes.push({
          id: change.id,
          step: change.step,
          outcome: 'not-attempted',
          message: failedStep ? `step ${failedStep} failed` : 'stopped',
        });
        continue;
      }
      if (options.signal?.aborted) {
        state = 'interrupted';
        outcomes.push({ id: change.id, step: change.step, outcome: 'not-attempted', message: 'interrupted' });
        continue;
      }
      options.onEvent?.({ type: 'start', change, index, total: changes.length });
      const outcome = await applyOne(
        writer,
        journal,
        change,
        options.takeOver?.has(change.id) ?? false,
        ownWrites,
      );
      outcomes.push(outcome);
      // Changes folded into this one share its outcome.
      for (const id of (change as Coalesced).alsoIds ?? []) outcomes.push({ ...outcome, id });
      options.onEvent?.({ type: 'done', change, outcome, index, total: changes.length });
      if (outcome.outcome === 'failed') {
        failedStep = change.step;
        state = 'failed';
      }
    }
  } finally {
    journal.append({ type: 'end', at: now(), state });
    journal.close();
  }
  return { runId, journalPath: journal.path, state, outcomes };
}

function refKey(ref: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

type Coalesced = PlannedChange & { alsoIds?: string[] };

/**
 * Confirmed changes of one step to one object become one write (e.g. a workload fix and its optional
 * readOnlyRootFilesystem change): a controller reacting to the first write would make the second look stale.
 */
function coalesce(changes: PlannedChange[]): Coalesced[] {
  const out: Coalesced[] = [];
  const byKey = new Map<string, Coalesced>();
  for (const c of changes) {
    const key = c.target && c.kind === 'apply' ? `${c.step}|${refKey(c.target)}` : undefined;
    const first = key ? byKey.get(key) : undefined;
    if (first && first.baseResourceVersion === c.baseResourceVersion && first.desired && c.desired) {
      first.desired = mergeApply(first.desired, c.desired) as KubeObject;
      first.alsoIds = [...(first.alsoIds ?? []), c.id];
      continue;
    }
    const copy: Coalesced = { ...c };
    if (key) byKey.set(key, copy);
    out.push(copy);
  }
  return out;
}

/** What this run wrote to an object: enough to tell our own change (and controller bookkeeping) from others'. */
interface OwnWrite {
  from: string | null;
  to: string;
  generation?: number;
  meta: string;
}

// Controllers update these after a template change; they are not someone else's edit.
const CONTROLLER_ANNOTATIONS = ['deployment.kubernetes.io/revision'];

function metaKey(object: KubeObject): string {
  const annotations = { ...(object.metadata.annotations ?? {}) };
  for (const a of CONTROLLER_ANNOTATIONS) delete annotations[a];
  return JSON.stringify([object.metadata.labels ?? {}, annotations]);
}

async function applyOne(
  writer: ClusterWriter,
  journal: Journal,
  change: PlannedChange,
  force: boolean,
  ownWrites: Map<string, OwnWrite>,
): Promise<ChangeOutcome> {
  const target = change.target;
  const base = { id: change.id, step: change.step };
  if (!target) return { ...base, outcome: 'skipped', message: 'nothing to apply' };
  // No signal on the write itself: a request in flight is always finished, so the journal stays consistent.
  let live: KubeObject | undefined;
  try {
    live = (await writer.get(target)).value;
  } catch (error) {
    if (isClusterError(error, 'Forbidden')) return { ...base, outcome: 'forbidden', message: error.message };
    throw error;
  }
  const liveRv = live?.metadata.resourceVersion ?? null;
  const own = ownWrites.get(refKey(target));
  // Moved since the preview, but by this run: our own earlier write, possibly followed by a controller updating
  // status (same generation, same labels and annotations).
  const movedByUs =
    own !== undefined &&
    live !== undefined &&
    own.from === change.baseResourceVersion &&
    (own.to === liveRv || (own.generation === live.metadata.generation && own.meta === metaKey(live)));
  if (liveRv !== change.baseResourceVersion && !movedByUs) {
    return {
      ...base,
      outcome: 'stale',
      message:
        change.baseResourceVersion === null
          ? 'the object was created by someone else since the preview; preview again'
          : live
            ? `the object changed since the preview (resourceVersion ${change.baseResourceVersion} → ${liveRv}); preview again`
            : 'the object was deleted since the preview; preview again',
    };
  }
  const seq = journal.nextSeq();
  const operation = change.operation;
  const desired = change.desired;
  const before = beforeImage(live);
  journal.append({
    type: 'intent',
    seq,
    at: now(),
    changeId: change.id,
    step: change.step,
    target,
    operation,
    baseResourceVersion: change.baseResourceVersion,
    ...(before ? { before } : {}),
    ...(desired
      ? {
          desired: (live
            ? mergeApply(extractOwned(live, FIELD_MANAGER) ?? {}, desired)
            : desired) as KubeObject,
        }
      : {}),
  });
  try {
    let resourceVersion: string | undefined;
    let object: KubeObject | undefined;
    if (operation === 'delete') {
      await writer.delete(target, {
        preconditions: {
          ...(live?.metadata.resourceVersion ? { resourceVersion: live.metadata.resourceVersion } : {}),
        },
      });
    } else {
      if (!desired) throw new Error(`change ${change.id} has no desired object`);
      // The previewed resourceVersion as a precondition: the API server refuses the write if it moved.
      const body: KubeObject = live
        ? {
            ...desired,
            metadata: { ...desired.metadata, resourceVersion: live.metadata.resourceVersion as string },
          }
        : desired;
      const result = await writer.apply(body, {
        fieldManager: FIELD_MANAGER,
        ...(force ? { force: true } : {}),
      });
      // Kept for verification; Secret values never leave the API response.
      object = redact(result.object);
      resourceVersion = result.object.metadata.resourceVersion;
    }
    journal.append({
      type: 'result',
      seq,
      at: now(),
      outcome: 'applied',
      ...(resourceVersion ? { resourceVersion } : {}),
    });
    return {
      ...base,
      outcome: 'applied',
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(object ? { object } : {}),
    };
  } catch (error) {
    const { outcome, message, conflicts } = classify(error);
    journal.append({ type: 'result', seq, at: now(), outcome, message });
    return { ...base, outcome, message, ...(conflicts ? { conflicts } : {}) };
  }
}

function classify(error: unknown): {
  outcome: Outcome;
  message: string;
  conflicts?: Array<{ manager: string; field: string }>;
} {
  if (error instanceof ClusterError) {
    if (error.reason === 'Forbidden') return { outcome: 'forbidden', message: error.message };
    if (error.reason === 'Conflict' && error.conflicts.length > 0) {
      return {
        outcome: 'conflict',
        message: error.message,
        conflicts: error.conflicts.map(({ manager, field }) => ({ manager, field })),
      };
    }
    if (error.reason === 'Conflict' || error.reason === 'NotFound') {
      return { outcome: 'stale', message: `${error.message}; preview again` };
    }
    return { outcome: 'failed', message: error.message };
  }
  return { outcome: 'failed', message: (error as Error).message };
}
