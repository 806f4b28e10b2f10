/**
 * Phase 6 in the wizard's phase list: its changes are manual (never applied by kube-harden), so the phase is "done"
 * only when the current plan covers it and proposes nothing — detection saw the flags in place — and a plan with
 * manual changes left (or unknown flags) keeps it "planned".
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/engine/types.js';
import { assess } from '../../src/policy/assess.js';
import { derivePhases } from '../../src/ui/model/phases.js';
import { auditLogging } from '../../steps/audit-logging.js';
import { psaWarnAudit } from '../../steps/psa-warn-audit.js';
import { secretsEncryption } from '../../steps/secrets-encryption.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { sampleSnapshot } from '../fixtures/snapshots/sample.js';

const steps = [psaWarnAudit, auditLogging, secretsEncryption];
const base = {
  steps,
  assessment: assess(sampleSnapshot(), { now: NOW }),
  planStale: false,
  permissions: {},
  history: [],
  skipped: [],
};
const planOf = (changes: string[]) =>
  ({
    steps: [
      { id: 'audit-logging', findings: [] },
      { id: 'secrets-encryption', findings: [] },
    ],
    changes: changes.map((step) => ({ step, kind: 'manual' })),
  }) as unknown as Plan;

describe('phase 6 status', () => {
  it('done only when planned with no change left; planned while manual changes remain; recommended skips it', () => {
    const row = (plan?: Plan) =>
      derivePhases({ ...base, ...(plan ? { plan } : {}) }).find((r) => r.phase === 6);
    expect(row()?.status).not.toBe('done');
    expect(row(planOf(['audit-logging', 'secrets-encryption']))?.status).toBe('planned');
    expect(row(planOf(['secrets-encryption']))?.status).toBe('planned');
    const done = row(planOf([]));
    expect(done).toMatchObject({ status: 'done', changes: 0, recommended: false });
    expect(
      derivePhases({ ...base, plan: planOf([]), planStale: true }).find((r) => r.phase === 6)?.status,
    ).not.toBe('done');
    // A phase of API changes with nothing planned is not "done" by this rule.
    const psa = { steps: [{ id: 'psa-warn-audit', findings: [] }], changes: [] } as unknown as Plan;
    expect(derivePhases({ ...base, plan: psa }).find((r) => r.phase === 1)?.status).toBe('planned');
  });
});
