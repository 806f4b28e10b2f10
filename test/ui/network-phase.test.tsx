/**
 * Phase 3 in the wizard on a cluster whose CNI (flannel alone) does not enforce NetworkPolicy: the phases screen
 * and the phase detail say, in so many words, that the policies have no effect yet and the phase is not done.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from '../../src/engine/types.js';
import { networkDefaultDeny } from '../../steps/network-default-deny.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

const FLANNEL = join(import.meta.dirname, '..', 'fixtures', 'netpol-flannel');
const STEPS = [networkDefaultDeny] as unknown as readonly Step<never>[];

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

describe('phase 3 when the CNI does not enforce NetworkPolicy', () => {
  it('the phases screen and the phase detail say the policies have no effect yet', async () => {
    const { store } = await clusterStore({ seed: FLANNEL, steps: STEPS });
    ui = renderWizard(store, { steps: STEPS, size: { columns: 240, rows: 30 } });
    const connect = await ui.waitFor('enter phases');
    // The permission preflight names each verb once, not once per namespace checked.
    expect(connect.split('create networkpolicies.networking.k8s.io').length - 1).toBe(1);
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down');
    let frame = await ui.waitFor('phase 3: Default-deny NetworkPolicies');
    expect(frame).toContain('! NetworkPolicies have no effect yet: the CNI (flannel) does not');
    expect(frame).toContain('phase 3 (default-deny) is not done until it does');
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(240);
    await ui.press('enter');
    frame = await ui.waitFor('Phase 3 · Default-deny NetworkPolicies');
    expect(frame).toContain('! NetworkPolicies have no effect yet: the CNI (flannel) does not');
    expect(frame).toContain('not done until it does');
  });
});
