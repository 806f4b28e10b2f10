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

export function phaseFindings(
  assessment: Assessment | undefined,
  plan: Plan | undefined,
  phase: number,
  stepIds: readonly string[],
): FindingRow[] {
  if (!assessment) return [];
  const rows: FindingRow[] = [];
  for (const f of assessment.findings) {
    if (phase !== 0 && (!isControlId(f.control) || control(f.control).phase !== phase)) continue;
    rows.push({
      severity: f.severity,
      control: f.control,
      target: f.target,
      message: f.message,
      excepted: f.excepted,
      ...(f.exceptedBy ? { exceptedBy: f.exceptedBy } : {}),
      namespace: targetNamespace(f.target) ?? '',
    });
  }
  if (phase !== 0 && plan) {
    const extra: FindingRow[] = [];
    for (const step of plan.steps) {
      if (!stepIds.includes(step.id)) continue;
      for (const f of step.findings) {
        extra.push({
          severity: f.severity,
          control: f.control,
          target: f.target,
          message: f.message,
          excepted: f.excepted === true,
          namespace: targetNamespace(f.target) ?? '',
        });
      }
    }
    extra.sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
    rows.push(...extra);
  }
  return rows;
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

export function filterFindings(rows: readonly FindingRow[], f: FindingFilter): FindingRow[] {
  if (!isFiltered(f)) return rows as FindingRow[];
  const max = f.minSeverity ? severityRank(f.minSeverity) : SEVERITIES.length;
  return rows.filter(
    (r) =>
      (f.namespace === undefined || r.namespace === f.namespace) &&
      (f.control === undefined || r.control === f.control) &&
      (!f.hideExcepted || !r.excepted) &&
      severityRank(r.severity) <= max,
  );
}

export interface Choice {
  /** undefined: no filter. */
  value: string | undefined;
  label: string;
}

function counted<T extends string>(values: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export function namespaceChoices(rows: readonly FindingRow[]): Choice[] {
  const byNs = counted(rows.map((r) => r.namespace));
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
  const by = counted(rows.map((r) => r.severity));
  let running = 0;
  const choices: Choice[] = [{ value: undefined, label: `any severity (${count(rows.length)})` }];
  for (const s of SEVERITIES.slice(0, -1)) {
    running += by.get(s) ?? 0;
    choices.push({ value: s, label: `${s === 'critical' ? s : `${s} or worse`} (${count(running)})` });
  }
  return choices;
}

export function controlChoices(rows: readonly FindingRow[]): Choice[] {
  const by = counted(rows.map((r) => r.control));
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

export function countFindings(rows: readonly FindingRow[]): { open: number; excepted: number } {
  let excepted = 0;
  for (const r of rows) if (r.excepted) excepted++;
  return { open: rows.length - excepted, excepted };
}

export const SEVERITY_LABEL: Readonly<Record<Severity, string>> = {
  critical: 'CRIT',
  high: 'HIGH',
  medium: 'MED ',
  low: 'LOW ',
  info: 'INFO',
};

/** Width of the control column: the longest control, at most a quarter of the line. */
export function controlWidth(rows: readonly FindingRow[], width: number): number {
  let max = 7;
  for (const r of rows) if (r.control.length > max) max = r.control.length;
  return Math.min(max, Math.max(12, Math.floor(width / 4)));
}

/** `KH-PSS-BASELINE  DaemonSet kube-system/calico-node: hostNamespaces, …` (without the severity column). */
export function formatFinding(row: FindingRow, width: number, ctlWidth: number): string {
  const ctl = clip(row.control, ctlWidth).padEnd(ctlWidth);
  const mark = row.excepted ? '(excepted) ' : '';
  return clip(`${ctl} ${mark}${describeTarget(row.target)}: ${row.message}`, width);
}
