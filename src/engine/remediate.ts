/** Offline remediation: the changes of a plan layered onto the manifests they came from. */

import {
  type ManifestChange,
  type WriteCopyResult,
  writeRemediatedCopy,
} from '../cluster/manifest-writer.js';
import type { ManifestSource } from '../cluster/manifests.js';
import type { KubeObject, ObjectRef } from '../k8s/types.js';
import { withoutBookkeeping } from './bookkeeping.js';
import { mergeApply } from './fields.js';
import { type StagingOptions, writeStaged } from './staging.js';
import type { PlannedChange } from './types.js';

/**
 * The manifest changes that carry planned changes into a copy of the source. Several steps may change one object:
 * they are layered in order on the file's object. Run annotations stay out (the manifests are the source of truth
 * in Git).
 */
export async function remediatedChanges(
  source: ManifestSource,
  changes: readonly PlannedChange[],
): Promise<ManifestChange[]> {
  const merged = new Map<string, { ref: ObjectRef; object: KubeObject; exists: boolean }>();
  for (const c of changes) {
    if (!c.target || !c.desired) continue;
    const key = `${c.target.apiVersion}/${c.target.kind}/${c.target.namespace ?? ''}/${c.target.name}`;
    let entry = merged.get(key);
    if (!entry) {
      const file = (await source.get(c.target)).value;
      const exists = file !== undefined && !source.isSynthesized(c.target);
      entry = { ref: c.target, object: (file ?? { ...c.desired }) as KubeObject, exists };
      merged.set(key, entry);
    }
    entry.object = mergeApply(entry.object, c.desired) as KubeObject;
  }
  return [...merged.values()].map((e) => {
    const object = withoutBookkeeping(e.object as KubeObject & Record<string, unknown>);
    return e.exists ? { ref: e.ref, object } : { create: object };
  });
}

export interface WriteRemediatedOptions extends StagingOptions {
  signal?: AbortSignal;
}

/**
 * The one way a remediated copy is written (the wizard's offline "apply", `plan --out` and `migrate --out`
 * offline): the changes layered onto the source's objects, written to a staging sibling of `outDir`, then moved
 * into place. The source is never modified.
 */
export async function writeRemediated(
  source: ManifestSource,
  changes: readonly PlannedChange[],
  outDir: string,
  options: WriteRemediatedOptions = {},
): Promise<WriteCopyResult> {
  const { signal, ...staging } = options;
  return writeStaged(
    outDir,
    async (dir) => {
      const manifestChanges = await remediatedChanges(source, changes);
      return writeRemediatedCopy(source, dir, manifestChanges, signal ? { signal } : {});
    },
    staging,
  );
}
