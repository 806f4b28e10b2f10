/**
 * Reading back what a run applied, for a step's `verify`: the live object of each applied change, read with one
 * request per kind and namespace — a LIST of the namespace's objects of that kind, or a GET when only one of them
 * changed — never one GET per object (rule 6: 400 workload fixes in 12 namespaces read 12 lists, not 400 objects).
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import { contains } from '../../src/engine/fields.js';
import type { AppliedChange } from '../../src/engine/types.js';
import type { WorkloadKind } from '../../src/inventory/types.js';
import { kindInfo } from '../../src/k8s/kinds.js';
import { type KubeObject, type ObjectRef, refKey } from '../../src/k8s/types.js';
import { templateOf } from './workloads.js';

export interface ReadBack {
  ref: ObjectRef;
  desired: KubeObject;
  /** The object as it is now; undefined when it no longer exists. */
  live: KubeObject | undefined;
}

/** The applied changes that wrote an object (a target and a desired state), each with its live object. */
export async function readBack(
  reader: ClusterReader,
  applied: readonly AppliedChange[],
  signal?: AbortSignal,
): Promise<ReadBack[]> {
  const groups = new Map<string, Array<{ ref: ObjectRef; desired: KubeObject }>>();
  for (const a of applied) {
    const { target: ref, desired } = a.change;
    if (!ref || !desired) continue;
    const key = `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}`;
    const group = groups.get(key) ?? [];
    group.push({ ref, desired });
    groups.set(key, group);
  }
  const live = new Map<string, KubeObject>();
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const info = kindInfo(first.ref);
    if (group.length === 1 || !info) {
      // One object (or a kind outside the catalog, which a list cannot name): a GET each.
      for (const { ref } of group) {
        const value = (await reader.get(ref, signal)).value;
        if (value) live.set(refKey(ref), value);
      }
      continue;
    }
    const wanted = new Set(group.map(({ ref }) => ref.name));
    const found = new Map<string, KubeObject>();
    for await (const page of reader.list(info, {
      ...(first.ref.namespace ? { namespace: first.ref.namespace } : {}),
      ...(signal ? { signal } : {}),
    })) {
      if (page.restarted && page.index === 1) found.clear();
      for (const item of page.items) if (wanted.has(item.metadata.name)) found.set(item.metadata.name, item);
    }
    for (const { ref } of group) {
      const value = found.get(ref.name);
      if (value) live.set(refKey(ref), value);
    }
  }
  return [...groups.values()]
    .flat()
    .map(({ ref, desired }) => ({ ref, desired, live: live.get(refKey(ref)) }));
}

/** Whether a workload's live pod template still holds what was applied to it (false when it is gone). */
export function templateKept({ ref, desired, live }: ReadBack): boolean {
  const kind = ref.kind as WorkloadKind;
  const now = live ? templateOf(kind, live) : undefined;
  const want = templateOf(kind, desired);
  return now !== undefined && want !== undefined && contains(now, want);
}
