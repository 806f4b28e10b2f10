/**
 * Two wizard bugs, reproduced first: (a) in phase 2, `a` (select all) selected the changes of opt-in steps (e.g.
 * psa-migrate's workload fixes), which are only ever selected one by one; (b) a phase row's open findings did not
 * count the step findings its detail lists once the phase was previewed (phase 6: KH-AUDIT-UNKNOWN, …).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/engine/types.js';
import { assess } from '../../src/policy/assess.js';
import { countFindings, phaseFindings } from '../../src/ui/model/findings.js';
import { derivePhases } from '../../src/ui/model/phases.js';
import { auditLogging } from '../../steps/audit-logging.js';
import { psaEnforce } from '../../steps/psa-enforce.js';
import { psaMigrate } from '../../steps/psa-migrate.js';
import { psaWarnAudit } from '../../steps/psa-warn-audit.js';
import { secretsEncryption } from '../../steps/secrets-encryption.js';
import { NOW } from '../fixtures/snapshots/builder.js';
import { sampleSnapshot } from '../fixtures/snapshots/sample.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

describe('a (select all) in phase 2', () => {
  it('selects the changes of phase 2 steps that are not opt-in, never an opt-in step’s', async () => {
    const steps = [psaWarnAudit, psaEnforce, psaMigrate] as unknown as readonly Step<never>[];
    const { store } = await clusterStore({ steps });
    ui = renderWizard(store, { steps });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'down', 'p');
    await ui.waitFor('Phase 2 changes');
    const plan = store.getState().plan;
    const migrate = (plan?.changes ?? []).filter((c) => c.step === 'psa-migrate' && c.kind !== 'manual');
    const enforce = (plan?.changes ?? []).filter((c) => c.step === 'psa-enforce' && c.kind !== 'manual');
    // The fixture has both: enforce changes and workload fixes of the opt-in step.
    expect(migrate.length).toBeGreaterThan(0);
    expect(enforce.length).toBeGreaterThan(0);
    await ui.press('a');
    await ui.waitFor(`${enforce.length} selected`);
    const selected = store.getState().selected;
    expect(selected.filter((id) => migrate.some((c) => c.id === id))).toEqual([]);
    expect([...selected].sort()).toEqual(enforce.map((c) => c.id).sort());
  });
});

describe('a phase row counts what its detail lists', () => {
  it('phase 6 previewed: the row’s open findings include the step findings the detail shows', () => {
    const assessment = assess(sampleSnapshot(), { now: NOW });
    const finding = (control: string) => ({
      control,
      severity: 'high',
      target: { kind: 'Cluster', name: 'kube-apiserver' },
      message: 'flags not visible',
    });
    const plan = {
      steps: [
        { id: 'audit-logging', findings: [finding('KH-AUDIT-UNKNOWN')] },
        { id: 'secrets-encryption', findings: [finding('KH-ENCRYPTION-UNKNOWN')] },
      ],
      changes: [],
    } as unknown as Plan;
    const steps = [psaWarnAudit, auditLogging, secretsEncryption];
    const stepIds = ['audit-logging', 'secrets-encryption'];
    const row = derivePhases({
      steps,
      assessment,
      plan,
      planStale: false,
      permissions: {},
      history: [],
      skipped: [],
    }).find((r) => r.phase === 6);
    const listed = countFindings(phaseFindings(assessment, plan, 6, stepIds));
    expect(listed.open).toBeGreaterThanOrEqual(2);
    expect(row).toMatchObject({ open: listed.open, excepted: listed.excepted });
  });
});
