/**
 * Objects as an undo must bring them back, for "field for field" comparisons before a run and after its undo:
 * everything but what the API server changes on every write (resourceVersion, managedFields, generation), what a
 * delete-and-recreate changes (uid, creationTimestamp), status, and the Deployment controller's revision counter.
 */

import type { KubeObject } from '../../src/k8s/types.js';
import { kubectlJson } from '../cluster/harness.js';

/** Annotations the controllers bump on every template change (a rollout and its undo are two revisions). */
const CONTROLLER_ANNOTATIONS = new Set(['deployment.kubernetes.io/revision']);

/** The fields a restore must bring back (see the file comment). */
export function restorableShape(o: KubeObject): unknown {
  return shapeOf(o, { identity: false });
}

/**
 * The fields an undo that patches an object back (never deletes and re-creates it) must bring back: as
 * restorableShape, and the object's identity too (uid, creationTimestamp).
 */
export function patchedBackShape(o: KubeObject): unknown {
  return shapeOf(o, { identity: true });
}

function shapeOf(o: KubeObject, keep: { identity: boolean }): unknown {
  const { metadata, status: _status, ...rest } = o as KubeObject & { status?: unknown };
  const {
    resourceVersion: _rv,
    managedFields: _mf,
    generation: _g,
    annotations,
    ...meta
  } = metadata as Record<string, unknown> & { annotations?: Record<string, string> };
  const { uid: _uid, creationTimestamp: _ct, ...anonymous } = meta;
  const kept = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => !CONTROLLER_ANNOTATIONS.has(k)),
  );
  return {
    ...rest,
    metadata: {
      ...(keep.identity ? meta : anonymous),
      ...(Object.keys(kept).length ? { annotations: kept } : {}),
    },
  };
}

/** What to snapshot: resources (kubectl names) in some namespaces, cluster-scoped resources, named objects. */
export interface SnapshotSpec {
  namespaced?: { resources: string[]; namespaces: string[] };
  /** Cluster-scoped resources listed whole (e.g. validatingadmissionpolicies). */
  cluster?: string[];
  /** Single objects, `resource/name` (e.g. namespace/shop). */
  named?: string[];
}

/** Every object the spec names, keyed `Kind namespace/name`, in its restorable shape. */
export async function snapshotObjects(spec: SnapshotSpec): Promise<Record<string, unknown>> {
  const items: KubeObject[] = [];
  const list = async (args: string[]) =>
    items.push(...(await kubectlJson<{ items: KubeObject[] }>(['get', ...args])).items);
  if (spec.namespaced) {
    for (const ns of spec.namespaced.namespaces) await list([spec.namespaced.resources.join(','), '-n', ns]);
  }
  if (spec.cluster?.length) await list([spec.cluster.join(',')]);
  for (const name of spec.named ?? []) items.push(await kubectlJson<KubeObject>(['get', name]));
  const out: Record<string, unknown> = {};
  for (const o of items) {
    const key = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    out[key] = restorableShape(o);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
