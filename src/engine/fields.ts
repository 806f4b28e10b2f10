/**
 * Field-level helpers for server-side apply. An apply configuration owns exactly the fields it names: fields
 * kube-harden applied earlier and omits now would be removed by the API server. So every apply starts from the
 * fields kube-harden already owns (extracted from managedFields, like client-go's Extract* functions) and layers
 * the step's fields on top. Undo restores, from the before-image, every field the run's apply configuration named.
 */

import { isMap } from '../k8s/json.js';
import type { KubeObject, ManagedFieldsEntry } from '../k8s/types.js';

type J = Record<string, unknown>;

/** The identity of an associative-list item, for the keys kube-harden touches (containers, volumes, mounts). */
function itemKey(item: unknown): string | undefined {
  if (!isMap(item)) return undefined;
  if (typeof item.name === 'string') return `name=${item.name}`;
  if (typeof item.mountPath === 'string') return `mountPath=${item.mountPath}`;
  return undefined;
}

/** Extract the parts of `value` described by a fieldsV1 set (`f:`, `k:`, `v:`, `i:`, `.` keys). */
export function extractFields(value: unknown, fields: unknown): unknown {
  if (!isMap(fields)) return value;
  const keys = Object.keys(fields).filter((k) => k !== '.');
  if (keys.length === 0) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const key of keys) {
      const sub = fields[key];
      if (key.startsWith('k:')) {
        let id: J;
        try {
          id = JSON.parse(key.slice(2)) as J;
        } catch {
          continue;
        }
        const item = value.find(
          (x) => isMap(x) && Object.entries(id).every(([k, v]) => JSON.stringify(x[k]) === JSON.stringify(v)),
        );
        if (item !== undefined) out.push({ ...id, ...(extractFields(item, sub) as J) });
      } else if (key.startsWith('v:')) {
        try {
          const v = JSON.parse(key.slice(2));
          if (value.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
        } catch {
          // malformed key: skip
        }
      } else if (key.startsWith('i:')) {
        const idx = Number(key.slice(2));
        if (idx < value.length) out.push(extractFields(value[idx], sub));
      }
    }
    return out;
  }
  if (isMap(value)) {
    const out: J = {};
    for (const key of keys) {
      if (!key.startsWith('f:')) continue;
      const name = key.slice(2);
      if (name in value) out[name] = extractFields(value[name], fields[key]);
    }
    return out;
  }
  return value;
}

/** The apply configuration a field manager currently owns on `live` (operation Apply, main resource). */
export function extractOwned(live: KubeObject, manager: string): KubeObject | undefined {
  const entries = (live.metadata.managedFields ?? []).filter(
    (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Apply' && !e.subresource,
  );
  if (entries.length === 0) return undefined;
  let owned: J = {};
  for (const e of entries) owned = mergeApply(owned, extractFields(live, e.fieldsV1) as J) as J;
  const meta = isMap(owned.metadata) ? owned.metadata : {};
  return {
    ...owned,
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: {
      ...meta,
      name: live.metadata.name,
      ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}),
    },
  } as KubeObject;
}

/** Layer `overlay` on `base`: maps merge recursively, named list items merge by name, other values are replaced. */
export function mergeApply(base: unknown, overlay: unknown): unknown {
  if (overlay === undefined) return base;
  if (isMap(base) && isMap(overlay)) {
    const out: J = { ...base };
    for (const [k, v] of Object.entries(overlay)) out[k] = mergeApply(base[k], v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(overlay)) {
    const keyed = [...base, ...overlay].every((x) => itemKey(x) !== undefined);
    if (!keyed) return overlay;
    const out = base.map((x) => x);
    for (const item of overlay) {
      const i = out.findIndex((x) => itemKey(x) === itemKey(item));
      if (i >= 0) out[i] = mergeApply(out[i], item);
      else out.push(item);
    }
    return out;
  }
  return overlay;
}

/** Whether every field named in `partial` has the same value in `whole` (named list items matched by name). */
export function contains(whole: unknown, partial: unknown): boolean {
  if (isMap(partial)) {
    if (!isMap(whole)) return false;
    return Object.entries(partial).every(([k, v]) => contains(whole[k], v));
  }
  if (Array.isArray(partial)) {
    if (!Array.isArray(whole)) return false;
    if (partial.every((x) => itemKey(x) !== undefined)) {
      return partial.every((p) => {
        const w = whole.find((x) => itemKey(x) === itemKey(p));
        return w !== undefined && contains(w, p);
      });
    }
    return JSON.stringify(whole) === JSON.stringify(partial);
  }
  return JSON.stringify(whole) === JSON.stringify(partial);
}

/**
 * A JSON merge patch that puts every field named in `applied` back to its value in `before` (removing fields that
 * did not exist). Lists are restored whole (merge patches replace lists). Identity fields are left alone.
 */
export function restorePatch(before: KubeObject | undefined, applied: KubeObject, live?: KubeObject): J {
  const walk = (b: unknown, a: unknown, l: unknown, top: boolean, inMeta: boolean): J => {
    const patch: J = {};
    if (!isMap(a)) return patch;
    for (const [key, value] of Object.entries(a)) {
      if (top && (key === 'apiVersion' || key === 'kind')) continue;
      if (
        inMeta &&
        (key === 'name' || key === 'namespace' || key === 'resourceVersion' || key === 'managedFields')
      )
        continue;
      const prior = isMap(b) ? b[key] : undefined;
      const now = isMap(l) ? l[key] : undefined;
      if (isMap(value) && isMap(prior)) {
        const sub = walk(prior, value, now, false, top && key === 'metadata');
        if (Object.keys(sub).length > 0) patch[key] = sub;
      } else if (isMap(value) && prior === undefined && isMap(now) && !onlyKeysOf(now, value)) {
        // A map that did not exist before but has gained keys from others since: remove only ours.
        const sub = walk(undefined, value, now, false, top && key === 'metadata');
        if (Object.keys(sub).length > 0) patch[key] = sub;
      } else {
        patch[key] = prior === undefined ? null : prior;
      }
    }
    return patch;
  };
  return walk(before, applied, live, true, false);
}

/** Whether `whole` has no keys (recursively) beyond those of `mine`. */
function onlyKeysOf(whole: J, mine: J): boolean {
  return Object.entries(whole).every(
    ([k, v]) => k in mine && (!isMap(v) || !isMap(mine[k]) || onlyKeysOf(v, mine[k] as J)),
  );
}

/** Whether every field named in `applied` already has, in `live`, the value it had in `before`. */
export function isRestored(
  live: KubeObject | undefined,
  before: KubeObject | undefined,
  applied: KubeObject,
): boolean {
  const patch = restorePatch(before, applied, live);
  const check = (l: unknown, p: J): boolean =>
    Object.entries(p).every(([k, v]) => {
      const lv = isMap(l) ? l[k] : undefined;
      if (v === null) return lv === undefined;
      if (isMap(v) && isMap(lv)) return check(lv, v);
      return JSON.stringify(lv) === JSON.stringify(v);
    });
  return check(live, patch);
}
