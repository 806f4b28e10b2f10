/**
 * Phases that write nothing (phase 6: manual changes; phase 7: the exceptions review) in the wizard's phase list,
 * as the journey meets them: phase 6 previewed on a cluster whose API server flags are invisible is "unknown"
 * (never "planned" or "done"), and stays so after phase 7 is previewed (the store then holds phase 7's plan); a
 * review that finds nothing is "done"; neither is recommended once previewed.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/engine/types.js';
import { assess } from '../../src/policy/assess.js';
import { derivePhases, type PhaseReview, reviewOf } from '../../src/ui/model/phases.js';
import { initialWizardState, wizardReducer } from '../../src/ui/state/wizard.js';
import { auditLogging } from '../../steps/audit-logging.js';
import { exceptionsReview } from '../../steps/exceptions-review.js';
import { psaWarnAudit } from '../../steps/psa-warn-audit.js';
import { secretsEncryption } from '../../steps/secrets-encryption.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { sampleSnapshot } from '../fixtures/snapshots/sample.js';

const steps = [psaWarnAudit, auditLogging, secretsEncryption, exceptionsReview];
const base = {
  steps,
  assessment: assess(sampleSnapshot(), { now: NOW }),
  planStale: false,
  permissions: {},
  history: [],
  skipped: [],
};
const finding = (control: string) => ({
  control,
  severity: 'high',
  target: { kind: 'Cluster', name: 'kube-apiserver' },
  message: 'flags not visible',
});
/** Phase 6 previewed where the API server's flags are invisible: manual changes, and unknowns. */
const phase6 = {
  steps: [
    { id: 'audit-logging', findings: [finding('KH-AUDIT-UNKNOWN')] },
    { id: 'secrets-encryption', findings: [finding('KH-ENCRYPTION-UNKNOWN')] },
  ],
  changes: [
    { step: 'audit-logging', kind: 'manual' },
    { step: 'secrets-encryption', kind: 'manual' },
  ],
} as unknown as Plan;
const phase7 = {
  steps: [{ id: 'exceptions-review', findings: [] }],
  changes: [],
} as unknown as Plan;
const row = (phase: number, extra: Partial<Parameters<typeof derivePhases>[0]>) =>
  derivePhases({ ...base, ...extra }).find((r) => r.phase === phase);

describe('phases that write nothing', () => {
  it('phase 6 with invisible flags is unknown, not planned or done, and not recommended', () => {
    const six = row(6, { plan: phase6 });
    expect(six).toMatchObject({ status: 'unknown', changes: 2, recommended: false });
    // With phase 1 out of the way, the next recommended phase is 7, not the unknown 6.
    expect(row(7, { plan: phase6, skipped: [1] })?.recommended).toBe(true);
  });

  it('what a preview found is remembered: phase 6 stays unknown once phase 7 is previewed; phase 7 is done', () => {
    const reviews: Record<number, PhaseReview> = {
      6: reviewOf(phase6, ['audit-logging', 'secrets-encryption']),
    };
    expect(reviews[6]).toEqual({ changes: 2, open: 2, unknown: true });
    const rows = derivePhases({ ...base, plan: phase7, reviews });
    expect(rows.find((r) => r.phase === 6)).toMatchObject({ status: 'unknown', changes: 2 });
    expect(rows.find((r) => r.phase === 7)).toMatchObject({ status: 'done', recommended: false });
    // Without the memory (before the fix) phase 6 fell back to "not started" here.
    expect(derivePhases({ ...base, plan: phase7 }).find((r) => r.phase === 6)?.status).not.toBe('unknown');
  });

  it('a review with open findings is not done; flags seen in place with nothing to do is done', () => {
    const expired = {
      steps: [{ id: 'exceptions-review', findings: [finding('KH-EXCEPTION-EXPIRED')] }],
      changes: [],
    } as unknown as Plan;
    expect(row(7, { plan: expired })?.status).toBe('findings');
    const clean = {
      steps: [
        { id: 'audit-logging', findings: [] },
        { id: 'secrets-encryption', findings: [] },
      ],
      changes: [],
    } as unknown as Plan;
    expect(row(6, { plan: clean })?.status).toBe('done');
  });

  it('the wizard state keeps the last review per phase', () => {
    let s = initialWizardState();
    s = wizardReducer(s, { type: 'reviewed', phase: 6, review: { changes: 8, open: 2, unknown: true } });
    s = wizardReducer(s, { type: 'reviewed', phase: 7, review: { changes: 0, open: 0, unknown: false } });
    s = wizardReducer(s, { type: 'reviewed', phase: 6, review: { changes: 0, open: 0, unknown: false } });
    expect(s.reviews).toEqual({
      6: { changes: 0, open: 0, unknown: false },
      7: { changes: 0, open: 0, unknown: false },
    });
  });
});
