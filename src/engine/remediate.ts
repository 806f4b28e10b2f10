/** Offline remediation: the changes of a plan layered onto the manifests they came from. */

import { existsSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import {
  type ManifestChange,
  type WriteCopyResult,
  writeRemediatedCopy,
} from '../cluster/manifest-writer.js';
import { isWithin, type ManifestSource, realPathNearest } from '../cluster/manifests.js';
import { UsageError } from '../errors.js';
import { type KubeObject, type ObjectRef, refKey } from '../k8s/types.js';
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
  const merged = new Map<
    string,
    { ref: ObjectRef; object: KubeObject | undefined; exists: boolean; deleted: boolean }
  >();
  for (const c of changes) {
    const desired = c.kind === 'apply' ? c.desired : undefined;
    if (!c.target || (c.kind === 'apply' && !desired) || c.kind === 'manual') continue;
    const key = refKey(c.target);
    let entry = merged.get(key);
    if (!entry) {
      const file = (await source.get(c.target)).value;
      const exists = file !== undefined && !source.isSynthesized(c.target);
      entry = { ref: c.target, object: file, exists, deleted: false };
      merged.set(key, entry);
    }
    if (c.kind === 'delete') {
      // The object leaves the copy (a later change to it in the same list brings it back).
      entry.deleted = true;
      entry.object = undefined;
    } else if (desired) {
      entry.deleted = false;
      entry.object = mergeApply(entry.object ?? { ...desired }, desired) as KubeObject;
    }
  }
  const out: ManifestChange[] = [];
  for (const e of merged.values()) {
    if (e.deleted || !e.object) {
      // Deleting what no manifest defines (e.g. a synthesized namespace) leaves nothing to remove.
      if (e.exists) out.push({ ref: e.ref, object: null });
      continue;
    }
    const object = withoutBookkeeping(e.object as KubeObject & Record<string, unknown>);
    if (e.exists) out.push({ ref: e.ref, object });
    else {
      const file = besideNamespace(source, object);
      out.push(file ? { create: object, file } : { create: object });
    }
  }
  return out;
}

/**
 * Where a new namespaced object goes: a new file in the folder of its Namespace's manifest (else of the first file
 * holding an object of that namespace), e.g. `shop/networkpolicy-kube-harden-default-deny.yaml`; undefined (the
 * writer's `kube-harden/` folder) for cluster-scoped objects, a single loaded file, or a namespace no file holds.
 */
function besideNamespace(source: ManifestSource, object: KubeObject): string | undefined {
  const namespace = object.metadata.namespace;
  const layout = source.layout();
  if (!namespace || layout.singleFile) return undefined;
  const holds = (match: (ref: ObjectRef) => boolean) =>
    layout.files.find((f) => f.documents.some((d) => d.entries.some((e) => match(e.ref))));
  const file =
    holds((r) => r.kind === 'Namespace' && r.apiVersion === 'v1' && r.name === namespace) ??
    holds((r) => r.namespace === namespace);
  if (!file) return undefined;
  const dir = posix.dirname(file.relative);
  const part = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '_');
  const name = `${part(object.kind)}-${part(object.metadata.name)}.yaml`;
  return dir === '.' ? name : `${dir}/${name}`;
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
  if (source.source.kind === 'manifests') refuseOutInsideManifests(source.source.path, outDir);
  return writeStaged(
    outDir,
    async (dir) => {
      const manifestChanges = await remediatedChanges(source, changes);
      return writeRemediatedCopy(source, dir, manifestChanges, signal ? { signal } : {});
    },
    staging,
  );
}

/**
 * The one "--out inside --manifests" check (plan, migrate and the wizard): what kube-harden writes must never land
 * in the manifests it reads (the next run would read its own output as input). Real paths are compared, so a
 * sibling such as `--manifests k8s --out k8s-fixed` is fine while `--out k8s/sub`, or a symbolic link that leads
 * into the tree, is refused. A `--out` that does not exist yet is resolved through its nearest existing parent.
 */
export function refuseOutInsideManifests(manifests: string, out: string): void {
  const root = realPathNearest(manifests);
  // A single file: its directory is not "the manifests" (the writer refuses writing the copy over it).
  if (existsSync(root) && !statSync(root).isDirectory()) return;
  const realOut = realPathNearest(out);
  if (!isWithin(realOut, root)) return;
  const shown = (given: string, real: string) => (resolve(given) === real ? given : `${given} (${real})`);
  throw new UsageError(
    `--out must not be inside the --manifests directory: ${shown(out, realOut)} is inside ${shown(manifests, root)}`,
    'write it elsewhere, e.g. a sibling folder of the manifests',
  );
}
