/**
 * Apply confirmed changes, in step order, one apply at a time per cluster (a lock file next to the journals).
 * Before each write: re-read the target and refuse if its resourceVersion moved since the preview (stale:
 * re-preview, never write over someone else's change) — or, for an object this run already wrote (several steps
 * changing one Namespace), since this run's own write; journal the before-image (once per object per run: the
 * state before the run first touched it) and the apply configuration, then that the request is sent, each entry
 * flushed before the request leaves; then server-side apply without force, with the expected resourceVersion as a
 * precondition. A transport error after sending re-reads the object: the change is confirmed if it shows there.
 * Forbidden, stale and conflicting changes are reported per item; any other failure stops the step and the steps
 * after it; a journal that cannot be written stops everything before the next request. An aborted signal stops
 * after the request in flight.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterWriter } from '../cluster/types.js';
import { type KubeObject, refKey } from '../k8s/types.js';
import { version } from '../version.js';
import { FIELD_MANAGER, withoutBookkeeping } from './bookkeeping.js';
import { contains, extractOwned, mergeApply } from './fields.js';
import {
  beforeImage,
  JOURNAL_FORMAT,
  Journal,
  type JournalIO,
  journaledDesired,
  Lock,
  type Outcome,
  readClusterIdentity,
  StateError,
} from './journal.js';
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
  /** File operations of the journal (tests simulate a full disk). */
  journalIO?: JournalIO;
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
  const env = options.env ?? process.env;
  const clusterId = await readClusterIdentity(writer, options.signal);
  const journal = Journal.create(source, runId, {
    env,
    ...(clusterId ? { clusterId } : {}),
    ...(options.journalIO ? { io: options.journalIO } : {}),
  });
  let lock: Lock;
  try {
    // One apply per cluster at a time: two runs changing one object would each see the other as stale at best.
    lock = Lock.acquire(
      join(dirname(journal.path), 'apply.lock'),
      `apply on context "${source.context}"`,
      env,
    );
  } catch (error) {
    journal.close();
    rmSync(journal.path, { force: true });
    throw error;
  }
  const changes = coalesce(plan.changes.filter((c) => options.confirmed.has(c.id) && c.kind !== 'manual'));
  const outcomes: ChangeOutcome[] = [];
  // Objects this run already wrote: a later change to the same object was previewed against the version before
  // our own write; it is applied with our write's resourceVersion as precondition instead.
  const ownWrites = new Map<string, OwnWrite>();
  let state: ApplyReport['state'] = 'complete';
  let failedStep: string | undefined;
  let journalError: unknown;
  try {
    journal.append({
      type: 'run',
      runId,
      startedAt: now(),
      context: source.context,
      server: source.server,
      ...(clusterId ? { clusterId } : {}),
      steps: [...new Set(changes.map((c) => c.step))],
      planId: plan.id,
      tool: `kube-harden ${version()}`,
      format: JOURNAL_FORMAT,
    });
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
      if (outcome.outcome === 'failed' || outcome.outcome === 'unknown') {
        failedStep = change.step;
        state = 'failed';
      }
    }
  } catch (error) {
    // The journal could not be written: nothing more is sent, and the error says why.
    if (error instanceof StateError) state = 'failed';
    journalError = error;
  } finally {
    try {
      journal.append({ type: 'end', at: now(), state });
    } catch {
      // the disk may still be full; a run without an end is listed as interrupted
    }
    journal.close();
    lock.release();
  }
  if (journalError) {
    const applied = outcomes.filter((o) => o.outcome === 'applied').length;
    if (journalError instanceof StateError && applied > 0) {
      throw new StateError(
        `${journalError.message}; ${applied} change(s) applied before it are journaled (undo with: kube-harden undo ${runId})`,
        journalError.hint,
      );
    }
    throw journalError;
  }
  return { runId, journalPath: journal.path, state, outcomes };
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
  /** resourceVersion before the run first wrote the object (null: the run created it). */
  from: string | null;
  /** resourceVersion our latest write returned. */
  to: string;
  generation?: number;
  meta: string;
  /** The journal entry holding the object's before-image. */
  beforeSeq: number;
}

// Controllers update these after a template change; they are not someone else's edit.
const CONTROLLER_ANNOTATIONS = ['deployment.kubernetes.io/revision'];

function metaKey(object: KubeObject): string {
  const annotations = { ...(object.metadata.annotations ?? {}) };
  for (const a of CONTROLLER_ANNOTATIONS) delete annotations[a];
  return JSON.stringify([object.metadata.labels ?? {}, annotations]);
}

/**
 * Since this run's own write, the object changed only by a controller's status (or bookkeeping annotation) update:
 * the same generation, labels and annotations as our write left it.
 */
function onlyStatusSince(own: OwnWrite, live: KubeObject | undefined): boolean {
  return (
    live !== undefined &&
    own.generation !== undefined &&
    own.generation === live.metadata.generation &&
    own.meta === metaKey(live)
  );
}

/** The API server refused a write because its resourceVersion precondition no longer holds (not a field conflict). */
function isVersionConflict(error: unknown): boolean {
  return error instanceof ClusterError && error.reason === 'Conflict' && error.conflicts.length === 0;
}

/** A transport failure: the request may or may not have reached the API server. */
function isTransportError(error: unknown): boolean {
  return isClusterError(error) && ['Connection', 'Timeout', 'TLS'].includes(error.reason);
}

function withoutResourceVersion(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...metadata } = object.metadata;
  return { ...object, metadata: metadata as KubeObject['metadata'] };
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
  const key = refKey(target);
  // No signal on the write itself: a request in flight is always finished, so the journal stays consistent.
  let live: KubeObject | undefined;
  try {
    live = (await writer.get(target)).value;
  } catch (error) {
    if (isClusterError(error, 'Forbidden')) return { ...base, outcome: 'forbidden', message: error.message };
    throw error;
  }
  const liveRv = live?.metadata.resourceVersion ?? null;
  const own = ownWrites.get(key);
  // A later change of this run wants only what an earlier write of this run already put in place (e.g.
  // registries-warn and registries-enforce both carry the same policy): nothing to send. A controller may have
  // updated the object's status since that write (a policy's type checking), and a second write would only race it.
  // The run/step annotations are bookkeeping: they keep naming the step that wrote the object first.
  if (
    own &&
    live &&
    change.desired &&
    change.operation !== 'delete' &&
    contains(live, withoutBookkeeping(change.desired))
  ) {
    return {
      ...base,
      outcome: 'applied',
      message: 'already in place: written earlier in this run',
      ...(liveRv ? { resourceVersion: liveRv } : {}),
      object: redact(live),
      at: now(),
    };
  }
  // The version this change may be applied to: the preview's, or — when this run already wrote the object since
  // that preview — the version our own write returned (a controller's status update after it, same generation
  // and same labels and annotations, is bookkeeping, not someone else's change).
  let expected: string | null = change.baseResourceVersion;
  if (own && own.from === change.baseResourceVersion) expected = onlyStatusSince(own, live) ? liveRv : own.to;
  if (liveRv !== expected) {
    const since = own ? "this run's own write" : 'the preview';
    return {
      ...base,
      outcome: 'stale',
      message:
        expected === null
          ? 'the object was created by someone else since the preview; preview again'
          : live
            ? `the object changed since ${since} (resourceVersion ${expected} → ${liveRv}); preview again`
            : `the object was deleted since ${since}; preview again`,
    };
  }
  const operation = change.operation;
  // Fields kube-harden owns now (e.g. written by an earlier step of this run) stay in the apply configuration:
  // server-side apply would remove owned fields the configuration leaves out.
  const desired = change.desired
    ? ((live
        ? mergeApply(extractOwned(live, FIELD_MANAGER) ?? {}, change.desired)
        : change.desired) as KubeObject)
    : undefined;
  const seq = journal.nextSeq();
  // One before-image per object per run: the state before the run first touched it.
  const before = own ? undefined : beforeImage(live);
  journal.append({
    type: 'intent',
    seq,
    at: now(),
    changeId: change.id,
    step: change.step,
    target,
    operation,
    baseResourceVersion: change.baseResourceVersion,
    precondition: liveRv,
    ...(before ? { before } : {}),
    ...(own ? { beforeSeq: own.beforeSeq } : {}),
    ...(desired ? { desired: journaledDesired(desired) } : {}),
  });
  const record = (
    outcome: Outcome,
    extra: { resourceVersion?: string; message?: string; confirmedBy?: 'response' | 'reread' } = {},
  ) => journal.append({ type: 'result', seq, at: now(), outcome, ...extra });
  const remember = (object: KubeObject | undefined, resourceVersion: string) => {
    ownWrites.set(key, {
      from: own ? own.from : change.baseResourceVersion,
      to: resourceVersion,
      ...(object?.metadata.generation !== undefined ? { generation: object.metadata.generation } : {}),
      meta: object ? metaKey(object) : '',
      beforeSeq: own ? own.beforeSeq : seq,
    });
  };
  if (operation !== 'delete' && !desired) throw new Error(`change ${change.id} has no desired object`);
  // The apply configuration, with the expected resourceVersion as a precondition: the API server refuses the
  // write if the object moved.
  const body: KubeObject | undefined =
    desired && live
      ? {
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: live.metadata.resourceVersion as string },
        }
      : desired;
  journal.append({ type: 'sent', seq, at: now() });
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
      const send = (object: KubeObject) =>
        writer.apply(object, { fieldManager: FIELD_MANAGER, ...(force ? { force: true } : {}) });
      let result: Awaited<ReturnType<typeof send>>;
      let sending = body as KubeObject;
      for (let attempt = 1; ; attempt++) {
        try {
          result = await send(sending);
          break;
        } catch (error) {
          // Our own earlier write of this run set a controller going (a Deployment's new ReplicaSet, its status):
          // its status update can land between the read above and this write, and the resourceVersion
          // precondition refuses it. Only then — same generation, same labels and annotations as our write left
          // them — the write is sent again on the new version (at most twice more); anything else stays stale.
          if (!own || attempt > 2 || !isVersionConflict(error)) throw error;
          const again = (await writer.get(target)).value;
          if (!onlyStatusSince(own, again) || !again?.metadata.resourceVersion) throw error;
          sending = {
            ...sending,
            metadata: { ...sending.metadata, resourceVersion: again.metadata.resourceVersion },
          };
        }
      }
      // Kept for verification; Secret values never leave the API response.
      object = redact(result.object);
      resourceVersion = result.object.metadata.resourceVersion;
      if (resourceVersion) remember(result.object, resourceVersion);
    }
    record('applied', { ...(resourceVersion ? { resourceVersion } : {}), confirmedBy: 'response' });
    return {
      ...base,
      outcome: 'applied',
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(object ? { object } : {}),
      at: now(),
    };
  } catch (error) {
    if (error instanceof StateError) throw error;
    if (isTransportError(error)) {
      // The request may have reached the API server before the connection broke: the object tells.
      const message = (error as Error).message;
      let after: KubeObject | undefined;
      try {
        after = (await writer.get(target)).value;
      } catch (reread) {
        const why = `${message}; re-reading the object failed too (${(reread as Error).message}): whether the change was applied is unknown`;
        record('unknown', { message: why });
        return { ...base, outcome: 'unknown', message: why };
      }
      const landed =
        operation === 'delete'
          ? after === undefined || after.metadata.deletionTimestamp !== undefined
          : after !== undefined &&
            after.metadata.resourceVersion !== liveRv &&
            ownsFields(after) &&
            contains(after, withoutResourceVersion(desired as KubeObject));
      if (landed) {
        const rv = after?.metadata.resourceVersion;
        if (after && rv) remember(after, rv);
        record('applied', {
          ...(rv ? { resourceVersion: rv } : {}),
          confirmedBy: 'reread',
          message: `${message}; the object shows the change`,
        });
        return {
          ...base,
          outcome: 'applied',
          message: 'the connection broke after the write; re-reading the object shows the change',
          ...(rv ? { resourceVersion: rv } : {}),
          ...(after && operation !== 'delete' ? { object: redact(after) } : {}),
          at: now(),
        };
      }
      const why = `${message}; the object does not show the change`;
      record('failed', { message: why });
      return { ...base, outcome: 'failed', message: why };
    }
    const { outcome, message, conflicts } = classify(error);
    record(outcome, { message });
    return { ...base, outcome, message, ...(conflicts ? { conflicts } : {}) };
  }
}

/** Whether kube-harden's field manager has applied fields of the object. */
function ownsFields(object: KubeObject): boolean {
  return (object.metadata.managedFields ?? []).some(
    (e) => e.manager === FIELD_MANAGER && e.operation === 'Apply',
  );
}

function classify(error: unknown): {
  outcome: Outcome;
  message: string;
  conflicts?: Array<{ manager: string; field: string }>;
} {
  if (error instanceof ClusterError) {
    if (error.reason === 'Forbidden' && error.webhook) return { outcome: 'rejected', message: error.message };
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
