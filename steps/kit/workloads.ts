/**
 * Workload pod templates: where each kind keeps its template, reading it from a live object, and the
 * server-side apply configuration that changes only a fragment of it. Pure.
 */
import type { WorkloadKind } from '../../src/inventory/types.js';
import { isMap, type Json, map } from '../../src/k8s/json.js';
import type { KubeObject, ObjectRef } from '../../src/k8s/types.js';

/** A pod template (or a bare Pod's metadata and spec) as JSON. */
export interface PodTemplate {
  metadata?: Json;
  spec: Json;
}

/** Workload kinds whose pod template can change in place (not a bare Pod, not a Job). */
export const TEMPLATE_KINDS: ReadonlyArray<readonly [string, WorkloadKind]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['apps/v1', 'ReplicaSet'],
  ['v1', 'ReplicationController'],
  ['batch/v1', 'CronJob'],
];

/** Where each kind keeps its pod template (`[]`: a Pod is its own template). */
export function templatePath(kind: WorkloadKind): string[] | undefined {
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return ['spec', 'template'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template'];
    case 'Pod':
      return [];
    default:
      return undefined;
  }
}

/** The pod template of a workload object, or undefined when it has none (or not where its kind keeps it). */
export function templateOf(kind: WorkloadKind, object: KubeObject): PodTemplate | undefined {
  const path = templatePath(kind);
  if (!path) return undefined;
  let t: unknown = object;
  for (const p of path) t = map(t)[p];
  const spec = map(t).spec;
  if (!isMap(spec)) return undefined;
  return { metadata: map(map(t).metadata), spec };
}

/** An apply configuration of the workload holding only `fragment` (`{spec: …}` of its pod template). */
export function workloadConfig(ref: ObjectRef, kind: WorkloadKind, fragment: Json): KubeObject {
  const path = templatePath(kind) ?? ['spec', 'template'];
  let inner: Json = fragment;
  for (const p of [...path].reverse()) inner = { [p]: inner };
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    ...inner,
  } as KubeObject;
}
