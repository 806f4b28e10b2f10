/**
 * Phase 3's same-namespace traffic is an explicit choice in the wizard: before the preview, the `namespace` vs
 * `isolated` question with one line each on what it means (the value in effect marked, `namespace` by default);
 * the phase is planned with the answer, and asked again (and re-planned) the next time.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from '../../src/engine/types.js';
import { networkDefaultDeny } from '../../steps/network-default-deny.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

const FLANNEL = join(import.meta.dirname, '..', 'fixtures', 'netpol-flannel');
const STEPS = [networkDefaultDeny] as unknown as readonly Step<never>[];
const SAME_NS = 'network-default-deny/shop/kube-harden-allow-same-namespace';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

describe('phase 3: the same-namespace choice before the preview', () => {
  it('asks namespace vs isolated (namespace by default), and plans with the answer', async () => {
    const { store } = await clusterStore({ seed: FLANNEL, steps: STEPS });
    ui = renderWizard(store, { steps: STEPS, size: { columns: 80, rows: 24 } });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    let frame = await ui.waitFor('Traffic between pods of the same namespace');
    expect(frame).toMatch(/› • namespace +every pod may reach every pod of its namespace \(default, safer\)/);
    expect(frame).toMatch(/ {3}isolated +only the Service edges found in it, besides DNS, API, ingress…/);
    expect(frame).toContain('--netpol-same-namespace');
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(store.getState().plan).toBeUndefined(); // nothing planned before the choice

    await ui.press('down', 'enter');
    await ui.waitFor(/change/);
    await waitForPlan(() => store.getState().plan);
    expect(store.getState().settings['network-default-deny.sameNamespace']).toBe('isolated');
    expect(store.getState().plan?.changes.map((c) => c.id)).not.toContain(SAME_NS);

    // Back to the choice (Esc), which now marks isolated; choose namespace: planned again, with the allow.
    await ui.press('esc');
    frame = await ui.waitFor('Traffic between pods of the same namespace');
    expect(frame).toMatch(/› • isolated/);
    const before = store.getState().plan;
    await ui.press('up', 'enter');
    await waitForPlan(() => (store.getState().plan !== before ? store.getState().plan : undefined));
    expect(store.getState().settings['network-default-deny.sameNamespace']).toBe('namespace');
    expect(store.getState().plan?.changes.map((c) => c.id)).toContain(SAME_NS);
  });
});

async function waitForPlan<T>(get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('no plan');
    await new Promise((r) => setTimeout(r, 10));
  }
}
