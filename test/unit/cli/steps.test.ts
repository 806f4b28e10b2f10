/** `kube-harden steps [-o json]`: the rollout in order, as {id, phase, title, risk, optIn, needs}. */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli.js';
import { listSteps } from '../../../src/commands/steps.js';
import { STEPS } from '../../../steps/index.js';

function capture() {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { out: () => out };
}

describe('kube-harden steps', () => {
  it('-o json: every registered step, in rollout order, with exactly the documented fields', async () => {
    const io = capture();
    expect(await main(['steps', '-o', 'json'])).toBe(0);
    const list = JSON.parse(io.out()) as Array<Record<string, unknown>>;
    expect(list.map((s) => s.id)).toEqual(STEPS.map((s) => s.id));
    for (const s of list) expect(Object.keys(s)).toEqual(['id', 'phase', 'title', 'risk', 'optIn', 'needs']);
    const byId = new Map(list.map((s) => [s.id, s]));
    expect(byId.get('psa-warn-audit')).toEqual({
      id: 'psa-warn-audit',
      phase: 1,
      title: STEPS[0]?.title,
      risk: 'low',
      optIn: false,
      needs: [],
    });
    expect(byId.get('psa-enforce')).toMatchObject({
      phase: 2,
      risk: 'disruptive',
      needs: ['psa-warn-audit'],
    });
    expect(byId.get('psa-migrate')).toMatchObject({ optIn: true });
    expect(byId.get('exceptions-review')).toMatchObject({ phase: 7, risk: 'none', optIn: false });
  });

  it('needs name registered steps of the same or an earlier phase, listed before them', () => {
    const list = listSteps();
    list.forEach((s, i) => {
      for (const need of s.needs) {
        const j = list.findIndex((o) => o.id === need);
        expect(j, `${s.id} needs ${need}`).toBeGreaterThanOrEqual(0);
        expect(j, `${s.id} needs ${need}`).toBeLessThan(i);
        expect(list[j]?.phase).toBeLessThanOrEqual(s.phase);
      }
    });
    // Phases never go back among the steps "all steps" plans.
    const phases = list.filter((s) => !s.optIn).map((s) => s.phase);
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
  });

  it('text: one row per step with phase, id, risk and what it builds on', async () => {
    const io = capture();
    expect(await main(['steps'])).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PHASE +STEP +RISK +TITLE +NEEDS$/);
    expect(lines).toHaveLength(STEPS.length + 1);
    expect(io.out()).toMatch(/\n2 +psa-enforce +disruptive +.* +after psa-warn-audit\n/);
    expect(io.out()).toMatch(/psa-migrate .*\(opt-in: --step only\)/);
    expect(await main(['steps', '-o', 'yaml'])).toBe(2);
  });
});
