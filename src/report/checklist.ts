/**
 * The report as the checklist: open findings counted by the rollout phase that fixes their control (the catalog's
 * `phase`, docs/controls.md), in rollout order, then those no phase fixes. Informational findings and excepted ones
 * are not counted. The report is phase 0: later phases' own checks (the API server's flags, the audit log) run in
 * their steps (`kube-harden plan --phase N`), so a 0 here is "nothing found by the report", never "done".
 */
import type { Assessment } from '../policy/assess.js';
import { control, isControlId, SEVERITIES, type Severity } from '../policy/controls.js';

/** The phases' names (DESIGN.md "The rollout phases"). */
export const PHASE_NAMES: Readonly<Record<number, string>> = {
  0: 'Inventory (read-only)',
  1: 'Pod Security warn + audit',
  2: 'Pod Security enforce by namespace tier',
  3: 'Default-deny networking',
  4: 'Service-account exposure and RBAC',
  5: 'Trusted image sources',
  6: 'Audit logging and the API server',
  7: 'Exception review',
};

export interface ChecklistRow {
  /** null: no phase fixes it (the owner does). */
  phase: number | null;
  name: string;
  /** Open findings that are not informational. */
  open: number;
  bySeverity: Record<Severity, number>;
  /** Their controls, most frequent first. */
  controls: Array<{ id: string; count: number }>;
}

export function checklistRows(a: Assessment): ChecklistRow[] {
  const rows = new Map<number | null, ChecklistRow>();
  const rowOf = (phase: number | null): ChecklistRow => {
    let row = rows.get(phase);
    if (!row) {
      row = {
        phase,
        name: phase === null ? 'No phase: changed by the owner' : (PHASE_NAMES[phase] ?? `Phase ${phase}`),
        open: 0,
        bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
        controls: [],
      };
      rows.set(phase, row);
    }
    return row;
  };
  for (const p of Object.keys(PHASE_NAMES)) rowOf(Number(p));
  for (const f of a.findings) {
    if (f.excepted || f.severity === 'info') continue;
    const row = rowOf(isControlId(f.control) ? control(f.control).phase : null);
    row.open++;
    row.bySeverity[f.severity]++;
    const c = row.controls.find((x) => x.id === f.control);
    if (c) c.count++;
    else row.controls.push({ id: f.control, count: 1 });
  }
  for (const row of rows.values())
    row.controls.sort((x, y) => y.count - x.count || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return [...rows.values()].sort(
    (x, y) => (x.phase ?? Number.POSITIVE_INFINITY) - (y.phase ?? Number.POSITIVE_INFINITY),
  );
}
