/** The text report reads as the checklist: open findings by the phase that fixes their control. */
import { describe, expect, it } from 'vitest';
import { assess } from '../../../src/policy/assess.js';
import { control } from '../../../src/policy/controls.js';
import { checklistRows } from '../../../src/report/checklist.js';
import { renderReport } from '../../../src/report/index.js';
import { NOW } from '../../fixtures/snapshots/builder.js';
import { sampleExceptions, sampleSnapshot } from '../../fixtures/snapshots/sample.js';

const a = () => assess(sampleSnapshot(), { now: NOW, exceptions: sampleExceptions() });

describe('checklist rows', () => {
  it('count each open, non-informational finding once, under the phase of its control, in rollout order', () => {
    const assessment = a();
    const rows = checklistRows(assessment);
    expect(rows.map((r) => r.phase)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, null]);
    const counted = assessment.findings.filter((f) => !f.excepted && f.severity !== 'info');
    expect(rows.reduce((n, r) => n + r.open, 0)).toBe(counted.length);
    for (const r of rows) {
      expect(r.open).toBe(counted.filter((f) => control(f.control).phase === r.phase).length);
      for (const c of r.controls) expect(control(c.id).phase).toBe(r.phase);
    }
    // An excepted or informational finding is not open work.
    expect(assessment.findings.some((f) => f.excepted)).toBe(true);
    expect(assessment.findings.some((f) => f.severity === 'info' && !f.excepted)).toBe(true);
  });

  it('the text report shows them after the summary; the JSON contract is unchanged', () => {
    const assessment = a();
    const text = renderReport(assessment, 'text', { timestamps: false });
    const at = text.indexOf('Checklist: open findings by the phase that fixes them');
    expect(at).toBeGreaterThan(text.indexOf('Summary'));
    expect(at).toBeLessThan(text.indexOf('Namespaces'));
    const phase2 = checklistRows(assessment).find((r) => r.phase === 2);
    expect(text).toMatch(new RegExp(`\\n  2  Pod Security enforce by namespace tier +${phase2?.open}: `));
    expect(text).toMatch(/\n {2}5 {2}Trusted image sources +none\n/);
    const json = JSON.parse(renderReport(assessment, 'json', { timestamps: false }));
    expect(Object.keys(json)).not.toContain('checklist');
  });
});
