/**
 * The findings of a phase as rows, their filters (namespace, minimum severity, control, excepted) and their
 * one-line rendering. Phase 0 shows every finding of the assessment; a step's phase shows the findings whose
 * control names that phase in the catalog, plus what the step's own detection found once it was planned.
 */
import type { Plan } from '../../engine/types.js';
import type { Assessment } from '../../policy/assess.js';
import { control, isControlId, SEVERITIES, type Severity, severityRank } from '../../policy/controls.js';
import { describeTarget, type Target, targetNamespace } from '../../policy/findings.js';
import { clip, count } from './format.js';

export interface FindingRow {
  severity: Severity;
  control: string;
  target: Target;
  message: string;
  excepted: boolean;
  exceptedBy?: string[];
  /** The namespace it is in; '' for cluster-scoped targets. */
  namespace: string;
}

function toRow(
  f: { severity: Severity; control: string; target: Target; message: string; excepted?: boolean },
  exceptedBy: string[] | undefined,
): FindingRow {
  const row: FindingRow = {
    severity: f.severity,
    control: f.control,
    target: f.target,
    message: f.message,
    excepted: f.excepted === true,
    namespace: targetNamespace(f.target) ?? '',
  };
  // Set, not spread: a spread builds and copies a second object per row (150,000 rows: a third of the build).
  if (exceptedBy) row.exceptedBy = exceptedBy;
  return row;
}

/** An assessment's rows: every finding once, and each step phase's share of the same row objects. */
interface AssessmentRows {
  all: readonly FindingRow[];
  byPhase: ReadonlyMap<number, readonly FindingRow[]>;
  /** A phase's rows plus a plan's step findings, per plan, per `phase:stepIds`. */
  planned: WeakMap<Plan, Map<string, readonly FindingRow[]>>;
}

const EMPTY: readonly FindingRow[] = Object.freeze([]);

/**
 * Rows of an assessment, built once per assessment (an assessment is never changed once made: a new inventory
 * or exception makes a new one) in one pass: the phases list, each phase's screen, and every re-render share them.
 */
const rowsOf = memoByObject((assessment: Assessment): AssessmentRows => {
  const all: FindingRow[] = [];
  const byPhase = new Map<number, FindingRow[]>();
  for (const f of assessment.findings) {
    const row = toRow(f, f.exceptedBy);
    all.push(row);
    if (!isControlId(f.control)) continue;
    const phase = control(f.control).phase;
    if (phase === null) continue;
    const list = byPhase.get(phase);
    if (list) list.push(row);
    else byPhase.set(phase, [row]);
  }
  return { all, byPhase, planned: new WeakMap() };
});

/** `fn(key)`, computed once per key object (held weakly: the result goes when the key does). */
function memoByObject<K extends object, V>(fn: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = fn(key);
      cache.set(key, v);
    }
    return v;
  };
}

/**
 * The rows of a phase: phase 0 every finding, a step phase those whose control names it, plus (once planned) what
 * the phase's steps found. The same arrays for the same inputs: shared, never to be changed by the caller.
 */
export function phaseFindings(
  assessment: Assessment | undefined,
  plan: Plan | undefined,
  phase: number,
  stepIds: readonly string[],
): readonly FindingRow[] {
  if (!assessment) return EMPTY;
  const rows = rowsOf(assessment);
  if (phase === 0) return rows.all;
  const base = rows.byPhase.get(phase) ?? EMPTY;
  if (!plan) return base;
  let byKey = rows.planned.get(plan);
  if (!byKey) {
    byKey = new Map();
    rows.planned.set(plan, byKey);
  }
  const key = `${phase}:${stepIds.join(',')}`;
  let planned = byKey.get(key);
  if (!planned) {
    const extra: FindingRow[] = [];
    for (const step of plan.steps) {
      if (!stepIds.includes(step.id)) continue;
      for (const f of step.findings) extra.push(toRow(f, undefined));
    }
    extra.sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
    planned = extra.length ? [...base, ...extra] : base;
    byKey.set(key, planned);
  }
  return planned;
}

export interface FindingFilter {
  /** '' = cluster-scoped only; absent = every namespace. */
  namespace?: string;
  /** At least this severe. */
  minSeverity?: Severity;
  control?: string;
  hideExcepted: boolean;
}

export const NO_FILTER: FindingFilter = Object.freeze({ hideExcepted: false });

export function isFiltered(f: FindingFilter): boolean {
  return (
    f.namespace !== undefined || f.minSeverity !== undefined || f.control !== undefined || f.hideExcepted
  );
}

/** Filtered lists kept per list (the last few filters): `x` back and forth, or a picker reopened, costs nothing. */
const filtered = new WeakMap<readonly FindingRow[], Map<string, readonly FindingRow[]>>();
const FILTERS_KEPT = 8;

/** The rows the filter lets through: the same array for the same rows and filter (shared: never to be changed). */
export function filterFindings(rows: readonly FindingRow[], f: FindingFilter): readonly FindingRow[] {
  if (!isFiltered(f)) return rows;
  const key = JSON.stringify([f.namespace ?? null, f.minSeverity ?? null, f.control ?? null, f.hideExcepted]);
  let kept = filtered.get(rows);
  const hit = kept?.get(key);
  if (hit) return hit;
  const max = f.minSeverity ? severityRank(f.minSeverity) : SEVERITIES.length;
  const out = rows.filter(
    (r) =>
      (f.namespace === undefined || r.namespace === f.namespace) &&
      (f.control === undefined || r.control === f.control) &&
      (!f.hideExcepted || !r.excepted) &&
      severityRank(r.severity) <= max,
  );
  if (!kept) {
    kept = new Map();
    filtered.set(rows, kept);
  }
  if (kept.size >= FILTERS_KEPT) kept.delete(kept.keys().next().value as string);
  kept.set(key, out);
  return out;
}

export interface Choice {
  /** undefined: no filter. */
  value: string | undefined;
  label: string;
}

function counted<T extends string>(rows: readonly FindingRow[], value: (r: FindingRow) => T): Map<T, number> {
  const m = new Map<T, number>();
  for (const r of rows) {
    const v = value(r);
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

export function namespaceChoices(rows: readonly FindingRow[]): Choice[] {
  const byNs = counted(rows, (r) => r.namespace);
  const names = [...byNs.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  return [
    { value: undefined, label: `every namespace (${count(rows.length)})` },
    ...names.map((n) => ({
      value: n,
      label: `${n === '' ? '(cluster-scoped)' : n} (${count(byNs.get(n) ?? 0)})`,
    })),
  ];
}

export function severityChoices(rows: readonly FindingRow[]): Choice[] {
  const by = counted(rows, (r) => r.severity);
  let running = 0;
  const choices: Choice[] = [{ value: undefined, label: `any severity (${count(rows.length)})` }];
  for (const s of SEVERITIES.slice(0, -1)) {
    running += by.get(s) ?? 0;
    choices.push({ value: s, label: `${s === 'critical' ? s : `${s} or worse`} (${count(running)})` });
  }
  return choices;
}

export function controlChoices(rows: readonly FindingRow[]): Choice[] {
  const by = counted(rows, (r) => r.control);
  return [
    { value: undefined, label: `every control (${count(rows.length)})` },
    ...[...by.keys()].sort().map((c) => ({
      value: c,
      label: `${c} (${count(by.get(c) ?? 0)})${isControlId(c) ? ` ${control(c).title}` : ''}`,
    })),
  ];
}

export function describeFilter(f: FindingFilter): string {
  const parts = [
    f.namespace === undefined
      ? 'namespace: any'
      : `namespace: ${f.namespace === '' ? '(cluster-scoped)' : f.namespace}`,
    `severity: ${f.minSeverity ? (f.minSeverity === 'critical' ? 'critical' : `${f.minSeverity}+`) : 'any'}`,
    `control: ${f.control ?? 'any'}`,
    f.hideExcepted ? 'excepted: hidden' : 'excepted: shown',
  ];
  return parts.join('  ');
}

/** Open and excepted rows (counted once per list: the phases list asks on every render). */
export const countFindings = memoByObject(
  (rows: readonly FindingRow[]): { open: number; excepted: number } => {
    let excepted = 0;
    for (const r of rows) if (r.excepted) excepted++;
    return Object.freeze({ open: rows.length - excepted, excepted });
  },
);

export const SEVERITY_LABEL: Readonly<Record<Severity, string>> = {
  critical: 'CRIT',
  high: 'HIGH',
  medium: 'MED ',
  low: 'LOW ',
  info: 'INFO',
};

/** Width of the control column: the longest control, at most a quarter of the line. */
export function controlWidth(rows: readonly FindingRow[], width: number): number {
  return Math.min(longestControl(rows), Math.max(12, Math.floor(width / 4)));
}

const longestControl = memoByObject((rows: readonly FindingRow[]): number => {
  let max = 7;
  for (const r of rows) if (r.control.length > max) max = r.control.length;
  return max;
});

/** `KH-PSS-BASELINE  DaemonSet kube-system/calico-node: hostNamespaces, …` (without the severity column). */
export function formatFinding(row: FindingRow, width: number, ctlWidth: number): string {
  const ctl = clip(row.control, ctlWidth).padEnd(ctlWidth);
  const mark = row.excepted ? '(excepted) ' : '';
  return clip(`${ctl} ${mark}${describeTarget(row.target)}: ${row.message}`, width);
}
