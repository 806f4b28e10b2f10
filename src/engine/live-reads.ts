/**
 * One read of the live targets of a plan, shared by the checks `apply --plan` makes before it asks for
 * confirmation (the target rules and drift): each object is read once however many changes touch it, and a group of
 * many targets of one kind in one namespace is read with one paginated LIST (only the targets are kept) instead of
 * one GET each. The write path reads each object again right before writing it, for its precondition and
 * before-image: confirmation can take any time.
 */
import { isClusterError } from '../cluster/errors.js';
import type { ClusterReader } from '../cluster/types.js';
import { type KubeObject, type ObjectRef, refKey } from '../k8s/types.js';

/** The object (`undefined`: it does not exist), or the reason it could not be read (Forbidden only). */
export type LiveRead = { value: KubeObject | undefined } | { forbidden: Error };

export type LiveReads = ReadonlyMap<string, LiveRead>;

/** From this many targets of one kind in one namespace, one LIST replaces the GETs. */
export const LIST_FROM = 16;
/** GETs in flight at once (the client's rate limiter still applies). */
const CONCURRENCY = 4;

/** Read every ref once. Errors other than Forbidden (connection, timeout) are thrown. */
export async function readLive(
  reader: ClusterReader,
  refs: readonly ObjectRef[],
  signal?: AbortSignal,
): Promise<LiveReads> {
  const out = new Map<string, LiveRead>();
  const groups = new Map<string, ObjectRef[]>();
  for (const ref of refs) {
    const key = refKey(ref);
    if (out.has(key)) continue;
    out.set(key, { value: undefined });
    const group = `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), ref]);
  }
  const singles: ObjectRef[] = [];
  for (const group of groups.values()) {
    if (group.length < LIST_FROM || !(await listInto(reader, group, out, signal))) singles.push(...group);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < singles.length) {
      const ref = singles[next++] as ObjectRef;
      out.set(refKey(ref), await getOne(reader, ref, signal));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, singles.length) }, worker));
  return out;
}

async function getOne(reader: ClusterReader, ref: ObjectRef, signal?: AbortSignal): Promise<LiveRead> {
  try {
    return { value: (await reader.get(ref, signal)).value };
  } catch (error) {
    if (isClusterError(error, 'Forbidden')) return { forbidden: error };
    throw error;
  }
}

/** One paginated LIST for a group; false when the list is forbidden (a get by name may still be allowed). */
async function listInto(
  reader: ClusterReader,
  group: readonly ObjectRef[],
  out: Map<string, LiveRead>,
  signal?: AbortSignal,
): Promise<boolean> {
  const first = group[0] as ObjectRef;
  const wanted = new Set(group.map((r) => r.name));
  const found = new Map<string, KubeObject>();
  try {
    for await (const page of reader.list(first, {
      ...(first.namespace ? { namespace: first.namespace } : {}),
      ...(signal ? { signal } : {}),
    })) {
      for (const item of page.items) {
        if (wanted.has(item.metadata.name)) found.set(item.metadata.name, item);
      }
    }
  } catch (error) {
    if (isClusterError(error, 'Forbidden')) return false;
    throw error;
  }
  for (const ref of group) {
    const item = found.get(ref.name);
    // A LIST returns items without apiVersion/kind: give them back, as a GET would.
    out.set(refKey(ref), {
      value: item ? { ...item, apiVersion: ref.apiVersion, kind: ref.kind } : undefined,
    });
  }
  return true;
}

/** The read of `ref`, when `live` has it; otherwise one GET now (as before this cache existed). */
export async function liveOf(
  reader: ClusterReader,
  ref: ObjectRef,
  live: LiveReads | undefined,
  signal?: AbortSignal,
): Promise<LiveRead> {
  return live?.get(refKey(ref)) ?? getOne(reader, ref, signal);
}
