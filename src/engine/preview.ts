/**
 * Preview: every apply change is dry-run on the API server (server-side apply, dryRun=All, strict validation,
 * field manager kube-harden) and diffed against the live object; the API server's warnings are kept. When a
 * preview cannot be made the change says why — never "no changes".
 */
import { ClusterError, isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import type { KubeObject, ObjectRef } from '../k8s/types.js';
import { FIELD_MANAGER, withBookkeeping, withoutBookkeeping } from './bookkeeping.js';
import { diffObjects } from './diff.js';
import { extractOwned, mergeApply } from './fields.js';
import { normalize, toYaml } from './normalize.js';
import type { Change, PlannedChange } from './types.js';

export interface PreviewContext {
  reader: ClusterReader;
  runId: string;
  step: string;
  phase: number;
  signal?: AbortSignal;
}

export type PreviewOutcome =
  | { planned: PlannedChange }
  | { noop: { id: string; target?: ObjectRef; reason: string } };

function base(
  change: Change,
  ctx: PreviewContext,
): Omit<PlannedChange, 'operation' | 'baseResourceVersion' | 'diff' | 'warnings' | 'preview'> {
  return {
    id: change.id,
    step: ctx.step,
    phase: ctx.phase,
    kind: change.kind,
    risk: change.risk,
    reason: change.reason,
    notes: change.notes ?? [],
    ...(change.kind !== 'manual' ? { target: change.target } : {}),
    ...(change.exportPatch ? { exportPatch: change.exportPatch } : {}),
    ...(change.optional ? { optional: true } : {}),
  };
}

function unavailable(error: unknown): string {
  if (error instanceof ClusterError) {
    if (error.reason === 'Conflict' && error.conflicts.length > 0) {
      return `conflict: ${error.conflicts.map((c) => `${c.field} is owned by "${c.manager}"`).join(', ')}`;
    }
    return error.message;
  }
  return (error as Error).message;
}

/**
 * Why the server's dry-run could not preview a change. A conflict is not a dry-run failure (the diff of taking
 * the fields over is still shown); anything else is "dry-run unavailable", never "no changes".
 */
function dryRunUnavailable(error: unknown): string {
  if (error instanceof ClusterError && error.reason === 'Conflict' && error.conflicts.length > 0) {
    return unavailable(error);
  }
  const message = unavailable(error);
  const sideEffects = /admission webhook "([^"]+)" does not support dry run/.exec(message)?.[1];
  if (sideEffects) {
    return `dry-run unavailable: admission webhook "${sideEffects}" does not support dry run (its sideEffects is not None or NoneOnDryRun, so the API server refuses every dry-run it would see); apply without a server preview only after reviewing the diff yourself`;
  }
  return `dry-run unavailable: ${message}`;
}

/** The apply configuration actually sent: fields kube-harden already owns, the step's fields, bookkeeping. */
export function finalDesired(
  desired: KubeObject,
  live: KubeObject | undefined,
  runId: string,
  step: string,
): KubeObject {
  const owned = live ? extractOwned(live, FIELD_MANAGER) : undefined;
  const merged = (owned ? mergeApply(owned, desired) : desired) as KubeObject;
  return withBookkeeping(merged, live, runId, step);
}

function sameIgnoringBookkeeping(a: KubeObject | undefined, b: KubeObject | undefined): boolean {
  return toYaml(withoutBookkeeping(normalize(a))) === toYaml(withoutBookkeeping(normalize(b)));
}

export async function previewChange(change: Change, ctx: PreviewContext): Promise<PreviewOutcome> {
  const common = base(change, ctx);
  if (change.kind === 'manual') {
    return {
      planned: {
        ...common,
        operation: 'manual',
        baseResourceVersion: null,
        diff: { text: '', added: 0, removed: 0 },
        warnings: [],
        preview: 'offline',
        artifact: change.artifact,
        instructions: change.instructions,
      },
    };
  }
  const { reader } = ctx;
  let live: KubeObject | undefined;
  try {
    live = (await reader.get(change.target, ctx.signal)).value;
  } catch (error) {
    if (
      !isClusterError(error) ||
      ['Connection', 'TLS', 'Unauthorized', 'NotKubernetes'].includes(error.reason)
    )
      throw error;
    // The target cannot even be read (forbidden, timeout): the change stays, without a preview, saying why.
    return {
      planned: {
        ...common,
        operation: change.kind === 'delete' ? 'delete' : 'update',
        ...(change.kind === 'apply'
          ? { desired: withBookkeeping(change.desired, undefined, ctx.runId, ctx.step) }
          : {}),
        baseResourceVersion: null,
        diff: { text: '', added: 0, removed: 0 },
        warnings: error.warnings,
        preview: 'unavailable',
        previewError: unavailable(error),
      },
    };
  }
  const baseResourceVersion = live?.metadata.resourceVersion ?? null;

  if (change.kind === 'delete') {
    if (!live) return { noop: { id: change.id, target: change.target, reason: 'already absent' } };
    let warnings: string[] = [];
    let preview: PlannedChange['preview'] = 'offline';
    let previewError: string | undefined;
    if (reader.capabilities.dryRun) {
      try {
        warnings = (await reader.dryRunDelete(change.target, ctx.signal)).warnings;
        preview = 'ok';
      } catch (error) {
        if (!isClusterError(error)) throw error;
        preview = 'unavailable';
        previewError = dryRunUnavailable(error);
      }
    }
    return {
      planned: {
        ...common,
        operation: 'delete',
        baseResourceVersion,
        diff: diffObjects(change.target, live, undefined),
        warnings,
        preview,
        ...(previewError ? { previewError } : {}),
      },
    };
  }

  const desired = finalDesired(change.desired, live, ctx.runId, ctx.step);
  const operation = live ? 'update' : 'create';
  /** The object after the change, previewed: nothing to do when it equals the live one (`noop` says why). */
  const previewed = (
    after: KubeObject,
    noop: string,
    warnings: string[],
    preview: 'ok' | 'offline',
  ): PreviewOutcome =>
    live && sameIgnoringBookkeeping(live, after)
      ? { noop: { id: change.id, target: change.target, reason: noop } }
      : {
          planned: {
            ...common,
            operation,
            desired,
            baseResourceVersion,
            diff: diffObjects(change.target, live, after),
            warnings,
            preview,
          },
        };
  if (!reader.capabilities.dryRun) {
    // Offline: the file's object with the change layered on.
    const after = (live ? mergeApply(live, desired) : desired) as KubeObject;
    return previewed(after, 'the manifest already has these fields', [], 'offline');
  }
  try {
    const dry = await reader.dryRunApply(desired, {
      fieldManager: FIELD_MANAGER,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    return previewed(dry.object, 'the dry-run result equals the live object', dry.warnings, 'ok');
  } catch (error) {
    if (
      !isClusterError(error) ||
      ['Connection', 'TLS', 'Unauthorized', 'NotKubernetes'].includes(error.reason)
    )
      throw error;
    let diff = { text: '', added: 0, removed: 0 };
    let warnings = error.warnings;
    if (error.reason === 'Conflict' && error.conflicts.length > 0) {
      // Show what taking the fields over would change; applying still needs the operator's explicit choice.
      try {
        const forced = await reader.dryRunApply(desired, { fieldManager: FIELD_MANAGER, force: true });
        diff = diffObjects(change.target, live, forced.object);
        warnings = forced.warnings;
      } catch {
        // keep the conflict message alone
      }
    }
    return {
      planned: {
        ...common,
        operation,
        desired,
        baseResourceVersion,
        diff,
        warnings,
        preview: 'unavailable',
        previewError: dryRunUnavailable(error),
        ...(error.conflicts.length > 0
          ? { conflicts: error.conflicts.map(({ manager, field }) => ({ manager, field })) }
          : {}),
      },
    };
  }
}
