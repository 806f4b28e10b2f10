/**
 * The findings rows are built once per assessment and shared (phases list, phase screens, re-renders), filters
 * once per list and filter: the same inputs give the same arrays, and the rows are what a plain derivation gives.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/engine/types.js';
import { assess } from '../../src/policy/assess.js';
import { control, isControlId, severityRank } from '../../src/policy/controls.js';
import { targetNamespace } from '../../src/policy/findings.js';
import {
  controlWidth,
  countFindings,
  type FindingRow,
  filterFindings,
  NO_FILTER,
  phaseFindings,
} from '../../src/ui/model/findings.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../fixtures/snapshots/sample.js';

const assessment = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });

/** What the rows of a phase are, derived the plain way (one pass per phase, a fresh array each time). */
function plainRows(phase: number): FindingRow[] {
  return assessment.findings
    .filter((f) => phase === 0 || (isControlId(f.control) && control(f.control).phase === phase))
    .map((f) => ({
      severity: f.severity,
      control: f.control,
      target: f.target,
      message: f.message,
      excepted: f.excepted,
      ...(f.exceptedBy ? { exceptedBy: f.exceptedBy } : {}),
      namespace: targetNamespace(f.target) ?? '',
    }));
}

describe('findings rows', () => {
  it('are, for every phase, what a plain derivation gives, in the same order', () => {
    const phases = new Set([
      0,
      ...assessment.findings.map((f) => (isControlId(f.control) ? control(f.control).phase : null)),
    ]);
    for (const phase of [...phases, 9, 42]) {
      if (phase === null) continue;
      expect(phaseFindings(assessment, undefined, phase, [])).toEqual(plainRows(phase));
    }
    expect(phaseFindings(undefined, undefined, 0, [])).toEqual([]);
    expect(plainRows(0).some((r) => r.exceptedBy)).toBe(true);
  });

  it('are built once per assessment and shared by the phases', () => {
    const all = phaseFindings(assessment, undefined, 0, []);
    expect(phaseFindings(assessment, undefined, 0, [])).toBe(all);
    const phase2 = phaseFindings(assessment, undefined, 2, ['psa-enforce']);
    expect(phaseFindings(assessment, undefined, 2, ['psa-enforce'])).toBe(phase2);
    // A phase's rows are the very rows of phase 0, not copies.
    for (const r of phase2) expect(all).toContain(r);
    // A new assessment (a new inventory, new exceptions): new rows.
    const again = assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });
    expect(phaseFindings(again, undefined, 0, [])).not.toBe(all);
    expect(phaseFindings(again, undefined, 0, [])).toEqual(all);
    expect(countFindings(all)).toBe(countFindings(all));
    expect(countFindings(all)).toEqual({
      open: all.filter((r) => !r.excepted).length,
      excepted: all.filter((r) => r.excepted).length,
    });
    expect(controlWidth(all, 400)).toBe(Math.max(7, ...all.map((r) => r.control.length)));
  });

  it("add a plan's step findings after the phase's, by severity, once per plan", () => {
    const finding = (control: string, severity: string, name: string) => ({
      control,
      severity,
      target: { kind: 'Namespace', name },
      message: name,
      excepted: name === 'b',
      exceptedBy: ['ignored: a step finding has no exception ids'],
    });
    const plan = {
      steps: [
        { id: 'psa-enforce', findings: [finding('KH-X', 'low', 'a'), finding('KH-Y', 'critical', 'b')] },
        { id: 'other', findings: [finding('KH-Z', 'high', 'c')] },
      ],
    } as unknown as Plan;
    const rows = phaseFindings(assessment, plan, 2, ['psa-enforce']);
    const base = phaseFindings(assessment, undefined, 2, ['psa-enforce']);
    expect(rows.slice(0, base.length)).toEqual(base);
    expect(rows.slice(base.length)).toEqual([
      {
        severity: 'critical',
        control: 'KH-Y',
        target: { kind: 'Namespace', name: 'b' },
        message: 'b',
        excepted: true,
        namespace: 'b',
      },
      {
        severity: 'low',
        control: 'KH-X',
        target: { kind: 'Namespace', name: 'a' },
        message: 'a',
        excepted: false,
        namespace: 'a',
      },
    ]);
    expect(phaseFindings(assessment, plan, 2, ['psa-enforce'])).toBe(rows);
    // Another step set or another plan is another list; the assessment's own rows are untouched.
    expect(phaseFindings(assessment, plan, 2, ['psa-enforce', 'other'])).toHaveLength(base.length + 3);
    expect(phaseFindings(assessment, { ...plan } as Plan, 2, ['psa-enforce'])).not.toBe(rows);
    expect(phaseFindings(assessment, undefined, 2, ['psa-enforce'])).toBe(base);
    expect(base.every((r) => severityRank(r.severity) >= 0)).toBe(true);
  });

  it('filter once per list and filter: `x` back and forth gives the same arrays', () => {
    const all = phaseFindings(assessment, undefined, 0, []);
    expect(filterFindings(all, NO_FILTER)).toBe(all);
    const hidden = filterFindings(all, { hideExcepted: true });
    expect(hidden).toEqual(all.filter((r) => !r.excepted));
    expect(filterFindings(all, { ...NO_FILTER, hideExcepted: true })).toBe(hidden);
    const shop = filterFindings(all, { namespace: 'shop', minSeverity: 'high', hideExcepted: false });
    expect(shop).toEqual(
      all.filter((r) => r.namespace === 'shop' && severityRank(r.severity) <= severityRank('high')),
    );
    expect(filterFindings(all, { hideExcepted: false, minSeverity: 'high', namespace: 'shop' })).toBe(shop);
    // The same filter on another list is that list's.
    const phase2 = phaseFindings(assessment, undefined, 2, []);
    expect(filterFindings(phase2, { hideExcepted: true })).toEqual(phase2.filter((r) => !r.excepted));
    // Only the last few filters are kept: an old one is computed again, equal.
    for (const ns of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'])
      filterFindings(all, { namespace: ns, hideExcepted: false });
    const again = filterFindings(all, { hideExcepted: true });
    expect(again).not.toBe(hidden);
    expect(again).toEqual(hidden);
  });
});
