/**
 * What a step may change, as data (`Step.targets`), and the check `apply --plan` runs on every saved change before
 * anything is written: a plan can only contain what its steps can produce. A change is refused when its step is
 * unknown, when the step declares no rule for its kind and operation, when it names an object the step never
 * touches (e.g. a system namespace), or when its apply configuration sets a label, annotation or field the rule
 * does not name, or a value the rule does not allow. Fields kube-harden already owns on the live object with the
 * same value are re-asserted by every apply (see fields.ts) and are not a change: they pass.
 */

import { isMap } from '../k8s/json.js';
import type { KubeObject } from '../k8s/types.js';
import { matchesGlob } from '../policy/config.js';
import { FIELD_MANAGER, MANAGED_BY_LABEL, RUN_ANNOTATION, STEP_ANNOTATION } from './bookkeeping.js';
import { extractOwned } from './fields.js';
import type { PlannedChange } from './types.js';

/** Which values a label, annotation or field may take. `matches` tests strings and numbers as text. */
export type ValueRule =
  | 'any'
  | { equals: unknown }
  | { oneOf: readonly unknown[] }
  | { matches: RegExp }
  /** An array whose every item is a string matching the expression (e.g. capability names). */
  | { every: RegExp };

export type WriteOperation = 'create' | 'update' | 'delete';

/** Objects of one kind a step may write. */
export interface ObjectRule {
  apiVersion: string;
  kind: string;
  operations: readonly WriteOperation[];
  /** Object names (globs) the step never touches, e.g. the system namespaces. */
  neverNames?: readonly string[];
  /** When given, the only object names (globs) the step touches, e.g. `kube-harden-*`. */
  onlyNames?: readonly string[];
  /** Namespaces (globs) the step never writes in. */
  neverNamespaces?: readonly string[];
  /** Label keys the apply configuration may set, with their values. */
  labels?: Readonly<Record<string, ValueRule>>;
  annotations?: Readonly<Record<string, ValueRule>>;
  /**
   * Every other field the apply configuration may set, as a dotted path to a leaf with `[]` for the items of a
   * list: `spec.template.spec.containers[].securityContext.runAsNonRoot`. `metadata.name`/`namespace`,
   * `apiVersion` and `kind` are the target's and always allowed.
   */
  fields?: Readonly<Record<string, ValueRule>>;
  /**
   * Paths (as in `fields`, without `[]`) under which the apply configuration may set anything, e.g.
   * `spec.ingress` for computed NetworkPolicy rules whose label keys and peers cannot be listed in advance.
   */
  subtrees?: readonly string[];
  /** Any label, annotation or field (test steps; a real step names what it sets). */
  anyField?: true;
}

/** The step may propose changes for a person to make (an artifact and instructions; nothing is written). */
export interface ManualRule {
  manual: true;
}

export type TargetRule = ObjectRule | ManualRule;

type J = Record<string, unknown>;

function allows(rule: ValueRule, value: unknown): boolean {
  if (rule === 'any') return true;
  if ('equals' in rule) return JSON.stringify(value) === JSON.stringify(rule.equals);
  if ('oneOf' in rule) return rule.oneOf.some((v) => JSON.stringify(v) === JSON.stringify(value));
  if ('matches' in rule)
    return (typeof value === 'string' || typeof value === 'number') && rule.matches.test(String(value));
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && rule.every.test(v));
}

interface Leaf {
  /** The pattern path (`[]` for list items) and the concrete path (`[name=x]` or `[3]`). */
  pattern: string;
  path: Array<string | { name?: string; index: number }>;
  value: unknown;
}

/** Leaves of an apply configuration: scalars, arrays of scalars, empty maps and lists. */
function leaves(value: unknown, pattern: string, path: Leaf['path'], out: Leaf[]): void {
  if (isMap(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, pattern ? `${pattern}.${k}` : k, [...path, k], out);
    return;
  }
  if (Array.isArray(value) && value.some((v) => isMap(v) || Array.isArray(v))) {
    value.forEach((item, index) => {
      const name = isMap(item) && typeof item.name === 'string' ? item.name : undefined;
      leaves(item, `${pattern}[]`, [...path, { ...(name !== undefined ? { name } : {}), index }], out);
    });
    return;
  }
  out.push({ pattern, path, value });
}

/** Each leaf pattern of `value` (`spec.rules[].operations`), with the values it has there: how rules are keyed. */
export function leafValues(value: unknown): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const all: Leaf[] = [];
  leaves(value, '', [], all);
  for (const { pattern, value: v } of all) {
    const seen = out.get(pattern) ?? [];
    seen.push(v);
    out.set(pattern, seen);
  }
  return out;
}

/** The value at a concrete path of `owned` (list items matched by name, else by position). */
function at(owned: unknown, path: Leaf['path']): unknown {
  let cur: unknown = owned;
  for (const seg of path) {
    if (typeof seg === 'string') {
      if (!isMap(cur)) return undefined;
      cur = cur[seg];
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur =
        seg.name !== undefined
          ? cur.find((x) => isMap(x) && x.name === seg.name)
          : (cur[seg.index] as unknown as J | undefined);
    }
  }
  return cur;
}

function same(a: unknown, b: unknown): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Why `change` is outside what `rules` allow, or undefined when it is inside. `live`: the target as it is now
 * (undefined when absent), which decides the real operation (a saved plan's `operation` is not trusted) and the
 * fields kube-harden already owns; `'unreadable'` when it cannot be read (the planned operation is judged, and
 * the write is refused later anyway).
 */
export function outsideTargets(
  change: PlannedChange,
  rules: readonly TargetRule[] | undefined,
  current: KubeObject | undefined | 'unreadable',
): string | undefined {
  const live = current === 'unreadable' ? undefined : current;
  if (!rules) return `step "${change.step}" is not a step of this kube-harden`;
  if (change.kind === 'manual') {
    return rules.some((r) => 'manual' in r) ? undefined : `step ${change.step} makes no manual changes`;
  }
  const target = change.target;
  if (!target) return 'it has no target';
  const expected: WriteOperation =
    change.kind === 'delete'
      ? 'delete'
      : current === 'unreadable'
        ? (change.operation as WriteOperation)
        : live
          ? 'update'
          : 'create';
  if (change.kind === 'apply' && change.operation !== expected) {
    return `it says ${change.operation}, but the object ${live ? 'exists' : 'does not exist'}`;
  }
  if (change.kind === 'delete' && change.operation !== 'delete') return 'a delete change must say delete';
  const rule = rules.find(
    (r): r is ObjectRule =>
      !('manual' in r) &&
      r.apiVersion === target.apiVersion &&
      r.kind === target.kind &&
      r.operations.includes(expected),
  );
  const what = `${expected} ${target.kind}${target.apiVersion.includes('/') ? ` (${target.apiVersion})` : ''}`;
  if (!rule) return `step ${change.step} never does "${what}"`;
  if (rule.onlyNames && !rule.onlyNames.some((g) => matchesGlob(g, target.name)))
    return `step ${change.step} never touches ${target.kind} ${target.name}`;
  if (rule.neverNames?.some((g) => matchesGlob(g, target.name)))
    return `step ${change.step} never touches ${target.kind} ${target.name}`;
  if (target.namespace && rule.neverNamespaces?.some((g) => matchesGlob(g, target.namespace as string)))
    return `step ${change.step} never writes in namespace ${target.namespace}`;
  if (change.kind === 'delete' || rule.anyField) return undefined;
  const desired = change.desired;
  if (!desired) return 'it has no apply configuration';
  const owned = live ? extractOwned(live, FIELD_MANAGER) : undefined;
  const found: Leaf[] = [];
  leaves(desired, '', [], found);
  for (const leaf of found) {
    const [top, second, third] = leaf.path;
    let valueRule: ValueRule | undefined;
    let label: string;
    if (top === 'apiVersion' || top === 'kind') continue;
    if (top === 'metadata' && (second === 'name' || second === 'namespace') && leaf.path.length === 2)
      continue;
    const emptyMap = isMap(leaf.value) && Object.keys(leaf.value).length === 0;
    if (top === 'metadata' && (second === 'labels' || second === 'annotations') && emptyMap) continue;
    if (
      top === 'metadata' &&
      (second === 'labels' || second === 'annotations') &&
      typeof third === 'string'
    ) {
      const labels = second === 'labels';
      label = `${labels ? 'label' : 'annotation'} ${third}`;
      if (labels && third === MANAGED_BY_LABEL) valueRule = { equals: 'kube-harden' };
      else if (!labels && third === RUN_ANNOTATION) valueRule = { matches: /^[0-9A-Za-z-]+$/ };
      else if (!labels && third === STEP_ANNOTATION) valueRule = { equals: change.step };
      else valueRule = (labels ? rule.labels : rule.annotations)?.[third];
      if (leaf.path.length > 3) valueRule = undefined;
    } else {
      label = `field ${leaf.pattern}`;
      valueRule = rule.fields?.[leaf.pattern];
      const pattern = leaf.pattern;
      if (
        !valueRule &&
        rule.subtrees?.some(
          (t) => pattern === t || pattern.startsWith(`${t}.`) || pattern.startsWith(`${t}[]`),
        )
      )
        valueRule = 'any';
    }
    if (valueRule && allows(valueRule, leaf.value)) continue;
    // Re-asserted: kube-harden already owns this field with this value.
    if (same(at(owned, leaf.path), leaf.value)) continue;
    return valueRule
      ? `step ${change.step} never sets ${label} to ${JSON.stringify(leaf.value)}`
      : `step ${change.step} never sets ${label}`;
  }
  return undefined;
}
