/**
 * The control catalog as the checklist: every control has a phase and the steps that act on it (or says none can),
 * every step named exists in the registry, in the control's phase, and each seed checklist line has its control.
 */
import { describe, expect, it } from 'vitest';
import { CONTROLS, control, MAPPED_CONTROL_IDS, stepsFixing } from '../../../src/policy/controls.js';
import { STEPS, stepById } from '../../../steps/index.js';

describe('control catalog', () => {
  it('IDs are unique and well formed', () => {
    const ids = CONTROLS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^KH-[A-Z0-9]+(-[A-Z0-9]+)*$/);
  });

  it('every control with a phase says which steps act on it (src/policy/controls.ts FIXED_BY)', () => {
    const missing = CONTROLS.filter((c) => c.phase !== null && stepsFixing(c.id) === undefined).map(
      (c) => c.id,
    );
    expect(missing, 'add these to FIXED_BY in src/policy/controls.ts').toEqual([]);
  });

  it('FIXED_BY names only controls that have a phase, and only registered steps of that phase', () => {
    const problems: string[] = [];
    for (const id of MAPPED_CONTROL_IDS) {
      const c = CONTROLS.find((x) => x.id === id);
      if (!c) {
        problems.push(`${id}: not in the catalog`);
        continue;
      }
      if (c.phase === null) problems.push(`${id}: has no phase but is mapped`);
      const steps = stepsFixing(id) ?? [];
      for (const s of steps) if (!stepById(s)) problems.push(`${id}: step ${s} is not registered`);
      if (steps.length > 0 && !steps.some((s) => stepById(s)?.phase === c.phase))
        problems.push(`${id}: none of ${steps.join(', ')} is in phase ${c.phase}`);
    }
    expect(problems).toEqual([]);
  });

  it('every step of phases 1-7 fixes at least one control (the checklist covers the rollout)', () => {
    const acting = new Set(CONTROLS.flatMap((c) => stepsFixing(c.id) ?? []));
    expect(STEPS.map((s) => s.id).filter((id) => !acting.has(id))).toEqual([]);
  });

  it('each seed checklist line has a control with the phase that fixes it', () => {
    const line = (id: string) => {
      const c = control(id);
      return [c.phase, ...(stepsFixing(id) ?? [])];
    };
    // PSA warn/audit, then enforce by tier
    expect(line('KH-PSA-NO-WARN-AUDIT')).toEqual([1, 'psa-warn-audit']);
    expect(line('KH-PSA-NOT-ENFORCED')).toEqual([2, 'psa-enforce']);
    expect(line('KH-PSS-PRIVILEGED-IN-APP-NS')).toEqual([2, 'privileged-isolate']);
    // Default-deny with DNS egress
    expect(line('KH-NET-NO-DEFAULT-DENY-INGRESS')).toEqual([3, 'network-default-deny']);
    expect(line('KH-NET-NO-DNS-EGRESS')).toEqual([3, 'network-default-deny']);
    // SA tokens, RBAC least privilege
    expect(line('KH-SA-TOKEN-AUTOMOUNT')).toEqual([4, 'sa-tokens']);
    expect(line('KH-RBAC-CLUSTER-ADMIN')).toEqual([4, 'rbac-review']);
    // Trusted registries
    expect(line('KH-IMAGE-REGISTRY-UNRESTRICTED')).toEqual([5, 'registries-warn', 'registries-enforce']);
    // Audit logging, secrets encryption, API server exposure (by hand)
    expect(line('KH-AUDIT-OFF')).toEqual([6, 'audit-logging']);
    expect(line('KH-ENCRYPTION-OFF')).toEqual([6, 'secrets-encryption']);
    expect(line('KH-APISERVER-PUBLIC')).toEqual([6]);
    // Exception review
    expect(line('KH-EXCEPTION-EXPIRED')).toEqual([7, 'exceptions-review']);
    // Resource protection
    expect(line('KH-POD-NO-LIMITS')).toEqual([2, 'resource-limits']);
  });

  it('a control without a phase is fixed by no step', () => {
    for (const c of CONTROLS.filter((x) => x.phase === null)) expect(stepsFixing(c.id)).toEqual([]);
  });
});
