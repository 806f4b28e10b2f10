/**
 * Undo a run from its journal: every field the run's apply configurations named goes back to its before-image
 * value, objects the run created are deleted, objects it deleted are re-created. A field changed since by someone
 * else (or by a later run) is a conflict, left alone unless forced. Undo is previewed by server-side dry-run and
 * confirmed like any other change; its own steps are journaled in the run's journal.
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterWriter } from '../cluster/types.js';
import { type KubeObject, type ObjectRef, refKey } from '../k8s/types.js';
import { RUN_ANNOTATION } from './bookkeeping.js';
import { diffObjects } from './diff.js';
import { contains, isRestored, mergeApply, restorePatch } from './fields.js';
import {
  Journal,
  type JournalEntry,
  type Lock,
  lockRun,
  readJournal,
  summarize,
  writeStates,
} from './journal.js';
import type { DiffSummary } from './types.js';

export interface UndoItem {
  /** `seq`s of the journaled changes to this object (a run may change one object in several steps). */
  seqs: number[];
  changeIds: string[];
  target: ObjectRef;
  action: 'restore' | 'delete' | 'recreate' | 'nothing' | 'conflict';
  /** Why (for nothing / conflict), or what (for the others). */
  message: string;
  patch?: Record<string, unknown>;
  recreate?: KubeObject;
  /** resourceVersion of the live object when previewed (precondition for the undo write). */
  liveResourceVersion?: string;
  diff: DiffSummary;
  warnings: string[];
  previewError?: string;
}

export interface UndoPlan {
  runId: string;
  journalPath: string;
  items: UndoItem[];
}

type Intent = Extract<JournalEntry, { type: 'intent' }>;

const EMPTY: DiffSummary = { text: '', added: 0, removed: 0 };

function isObject(v: unknown): v is KubeObject {
  return !!v && typeof v === 'object' && 'metadata' in (v as object);
}

/** Apply a JSON merge patch (RFC 7386) locally, for offline reasoning and previews. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Locks taken by planUndo, held until the undo is applied (or the process exits). */
const pendingLocks = new Map<string, Lock>();

/** Journaled writes already undone (by this or an earlier undo of the run). */
function undoneSeqsOf(entries: JournalEntry[]): Set<number> {
  const undoneSeqs = new Set<number>();
  const undoIntents = new Map<number, number[]>();
  for (const e of entries) {
    if (e.type === 'undo-intent') undoIntents.set(e.seq, e.undoes);
    if (e.type === 'undo-result' && ['restored', 'deleted', 'unchanged'].includes(e.outcome)) {
      for (const seq of undoIntents.get(e.seq) ?? []) undoneSeqs.add(seq);
    }
  }
  return undoneSeqs;
}

export async function planUndo(
  writer: ClusterWriter,
  journalPath: string,
  options: { force?: boolean; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
): Promise<UndoPlan> {
  // One undo of a run at a time: taken now, so two operators never both preview and then both write.
  if (!pendingLocks.has(journalPath)) pendingLocks.set(journalPath, lockRun(journalPath, options.env));
  const entries = readJournal(journalPath);
  const summary = summarize(journalPath, entries);
  if (!summary) throw new Error(`${journalPath} is not a kube-harden run journal`);
  const states = writeStates(entries);
  const undoneSeqs = undoneSeqsOf(entries);
  // The first intent per object holds its before-image: the state before the run first touched it.
  const firstIntent = new Map<string, Intent>();
  for (const e of entries) {
    if (e.type === 'intent' && !firstIntent.has(refKey(e.target))) firstIntent.set(refKey(e.target), e);
  }
  // One item per object, newest object first: several changes of one run to one object undo together, from
  // the before-image of the first to the fields of all.
  const groups = new Map<string, Intent[]>();
  for (const e of entries) {
    if (e.type !== 'intent' || undoneSeqs.has(e.seq)) continue;
    const state = states.get(e.seq);
    // Confirmed writes are undone; sent ones without a known outcome are checked against the live object;
    // intents never sent, failed and refused writes changed nothing.
    if (state !== 'confirmed' && state !== 'sent' && state !== 'unknown') continue;
    const key = refKey(e.target);
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  const items: UndoItem[] = [];
  for (const [key, group] of [...groups.entries()].reverse()) {
    const first = firstIntent.get(key) ?? (group[0] as Intent);
    const target = first.target;
    const base = {
      seqs: group.map((g) => g.seq),
      changeIds: group.map((g) => g.changeId),
      target,
      diff: EMPTY,
      warnings: [] as string[],
    };
    const live = (await writer.get(target, options.signal)).value;
    const liveRv = live?.metadata.resourceVersion;
    const last = group[group.length - 1] as Intent;
    const applied = group.reduce<unknown>(
      (acc, g) => (g.desired ? mergeApply(acc, g.desired) : acc),
      undefined,
    ) as KubeObject | undefined;
    const combined: Intent = {
      ...first,
      operation: first.operation === 'create' || last.operation !== 'delete' ? first.operation : 'delete',
      ...(applied ? { desired: applied } : {}),
    };
    const item = decide(combined, live, options.force ?? false, last.desired);
    const full: UndoItem = { ...base, ...item, ...(liveRv ? { liveResourceVersion: liveRv } : {}) };
    // Preview on the server, like any other change.
    try {
      if (full.action === 'restore' && full.patch) {
        const dry = await writer.dryRunMergePatch(target, full.patch, options.signal);
        full.diff = diffObjects(target, live, dry.object);
        full.warnings = dry.warnings;
      } else if (full.action === 'delete') {
        full.warnings = (await writer.dryRunDelete(target, options.signal)).warnings;
        full.diff = diffObjects(target, live, undefined);
      } else if (full.action === 'recreate' && full.recreate) {
        const dry = await writer.dryRunApply(full.recreate, { fieldManager: 'kube-harden' });
        full.diff = diffObjects(target, undefined, dry.object);
        full.warnings = dry.warnings;
      }
    } catch (error) {
      if (!isClusterError(error)) throw error;
      full.previewError = error.message;
    }
    items.push(full);
  }
  return { runId: summary.runId, journalPath, items };
}

function decide(
  intent: Intent,
  live: KubeObject | undefined,
  force: boolean,
  lastDesired: KubeObject | undefined,
): Omit<UndoItem, 'seqs' | 'changeIds' | 'target' | 'diff' | 'warnings'> {
  const runId = lastDesired?.metadata.annotations?.[RUN_ANNOTATION];
  if (intent.operation === 'create') {
    if (!live) return { action: 'nothing', message: 'the object the run created is already gone' };
    const ours = live.metadata.annotations?.[RUN_ANNOTATION] === runId;
    if (!ours && !force) {
      return {
        action: 'conflict',
        message:
          'the object was re-created or re-stamped by someone else since; use --force to delete it anyway',
      };
    }
    return { action: 'delete', message: 'delete the object the run created' };
  }
  if (intent.operation === 'delete') {
    if (live) return { action: 'nothing', message: 'the object exists again' };
    if (!isObject(intent.before)) return { action: 'conflict', message: 'no before-image to re-create from' };
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = intent.before.metadata;
    const { status: _s, ...rest } = intent.before;
    return {
      action: 'recreate',
      message: 're-create the object the run deleted',
      recreate: { ...rest, metadata } as KubeObject,
    };
  }
  // update
  if (!live) return { action: 'conflict', message: 'the object was deleted since the run' };
  if (!isObject(intent.before)) {
    return {
      action: 'conflict',
      message: 'the before-image is a hash only (a Secret): restore it from your own backup',
    };
  }
  const desired = intent.desired;
  if (!desired) return { action: 'nothing', message: 'nothing was applied' };
  if (isRestored(live, intent.before, desired))
    return { action: 'nothing', message: 'already back to its before-image' };
  if (!contains(live, desired) && !force) {
    return {
      action: 'conflict',
      message:
        'fields the run set were changed since by someone else (or a later run); use --force to restore them anyway',
    };
  }
  return {
    action: 'restore',
    message: 'restore the fields the run changed',
    patch: restorePatch(intent.before, desired, live),
  };
}

export interface UndoOutcome {
  item: UndoItem;
  outcome:
    | 'restored'
    | 'deleted'
    | 'recreated'
    | 'unchanged'
    | 'conflict'
    | 'failed'
    | 'forbidden'
    | 'skipped';
  message?: string;
}

/** Carry out an undo plan (after the operator confirmed it). */
export async function applyUndo(
  writer: ClusterWriter,
  plan: UndoPlan,
  options: { signal?: AbortSignal; onItem?: (o: UndoOutcome) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<UndoOutcome[]> {
  const lock = lockRun(plan.journalPath, options.env);
  const pending = pendingLocks.get(plan.journalPath);
  pendingLocks.delete(plan.journalPath);
  const outcomes: UndoOutcome[] = [];
  let journal: Journal | undefined;
  try {
    // Under the lock: sequence numbers continue from the file as it is now, and items another undo did since
    // this one was previewed are left alone.
    journal = Journal.open(plan.journalPath, options.env ? { env: options.env } : {});
    const undoneSince = undoneSeqsOf(readJournal(plan.journalPath));
    for (const item of plan.items) {
      if (options.signal?.aborted) {
        outcomes.push({ item, outcome: 'skipped', message: 'interrupted' });
        continue;
      }
      if (item.seqs.every((seq) => undoneSince.has(seq))) {
        const o: UndoOutcome = { item, outcome: 'unchanged', message: 'already undone' };
        outcomes.push(o);
        options.onItem?.(o);
        continue;
      }
      if (item.action === 'nothing' || item.action === 'conflict') {
        const o: UndoOutcome = {
          item,
          outcome: item.action === 'nothing' ? 'unchanged' : 'conflict',
          message: item.message,
        };
        outcomes.push(o);
        options.onItem?.(o);
        continue;
      }
      const seq = journal.nextSeq();
      journal.append({
        type: 'undo-intent',
        seq,
        at: new Date().toISOString(),
        undoes: item.seqs,
        action: item.action === 'delete' ? 'delete' : 'restore',
        ...(item.patch ? { patch: item.patch } : {}),
      });
      let o: UndoOutcome;
      try {
        if (item.action === 'restore' && item.patch) {
          // The previewed resourceVersion as a precondition: if the object moved since the preview, refuse.
          const patch = {
            ...item.patch,
            metadata: {
              ...((item.patch.metadata as object) ?? {}),
              resourceVersion: item.liveResourceVersion,
            },
          };
          await writer.mergePatch(item.target, patch, { fieldManager: 'kube-harden' });
          o = { item, outcome: 'restored' };
        } else if (item.action === 'delete') {
          await writer.delete(item.target, {
            preconditions: item.liveResourceVersion ? { resourceVersion: item.liveResourceVersion } : {},
          });
          o = { item, outcome: 'deleted' };
        } else if (item.recreate) {
          await writer.apply(item.recreate, { fieldManager: 'kube-harden' });
          o = { item, outcome: 'recreated' };
        } else {
          o = { item, outcome: 'unchanged' };
        }
      } catch (error) {
        if (!isClusterError(error)) throw error;
        o = {
          item,
          outcome:
            error.reason === 'Forbidden' ? 'forbidden' : error.reason === 'Conflict' ? 'conflict' : 'failed',
          message:
            error.reason === 'Conflict' ? `${error.message}; run undo again to re-check` : error.message,
        };
      }
      journal.append({
        type: 'undo-result',
        seq,
        at: new Date().toISOString(),
        outcome:
          o.outcome === 'recreated'
            ? 'restored'
            : (o.outcome as 'restored' | 'deleted' | 'unchanged' | 'conflict' | 'failed' | 'forbidden'),
        ...(o.message ? { message: o.message } : {}),
      });
      outcomes.push(o);
      options.onItem?.(o);
    }
    const complete = outcomes.every((o) =>
      ['restored', 'deleted', 'recreated', 'unchanged'].includes(o.outcome),
    );
    journal.append({ type: 'undone', at: new Date().toISOString(), complete });
  } finally {
    journal?.close();
    lock.release();
    pending?.release();
  }
  return outcomes;
}
