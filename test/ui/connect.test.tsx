/**
 * Connect: where the wizard is connected, as whom, what the inventory found, and whether each phase can be
 * applied (SelfSubjectAccessReview) — before the operator starts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/errors.js';
import { createHardenStore } from '../../src/store/store.js';
import { FakeCluster } from './support/fake-cluster.js';
import {
  clusterStore,
  type Driven,
  LEGACY,
  manifestStore,
  PSA_STEPS,
  renderWizard,
  sessionOptions,
} from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

describe('connect screen', () => {
  it('shows context, server version, identity, inventory totals and the permission preflight per phase', async () => {
    // Given a cluster holding the legacy example
    const { store } = await clusterStore();
    // When the wizard starts
    ui = renderWizard(store);
    // Then the connect screen shows who and where, what was listed, and what each phase needs
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toContain('context  kind-test  (https://10.0.0.1:6443)');
    expect(frame).toContain('version  v1.33.2');
    expect(frame).toContain('user     tester  (groups: system:authenticated)');
    expect(frame).toMatch(/✓ listed 1 pod and 17 workloads in 9 namespaces/);
    expect(frame).toMatch(/103 open findings \(2 critical, 11 high, 41 medium, 30 low, 19 info\)/);
    expect(frame).toMatch(/phase 1 {2}Pod Security warn \+ audit +✓ patch namespaces/);
    expect(frame).toMatch(/phase 2 {2}Pod Security enforce by tier +✓ patch namespaces {2}✓ list events/);
    expect(frame).toContain('read-write: changes are applied only after you confirm them');
    // When the operator presses Enter, then the phases follow
    await ui.press('enter');
    await ui.waitFor('PHASE', 'Inventory privilege exceptions');
  });

  it('marks a phase the user may not apply before the operator starts', async () => {
    // Given a user who may not patch namespaces
    const { store } = await clusterStore({ denied: ['patch namespaces'] });
    ui = renderWizard(store);
    // Then the preflight says so per phase
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toMatch(/phase 1 .*✗ patch namespaces — cannot apply/);
    expect(frame).toMatch(/phase 2 .*✗ patch namespaces {2}✓ list events — cannot apply/);
    // And the phases list marks them too
    await ui.press('enter');
    await ui.press('down');
    const phases = await ui.waitFor('cannot apply: you may not patch namespaces');
    expect(phases).toMatch(/1 Pod Security warn \+ audit .*✗/);
  });

  it('shows an unreachable server with its hint, and tries again on r', async () => {
    // Given a server that cannot be reached
    let attempts = 0;
    const store = createHardenStore({
      options: sessionOptions(),
      steps: PSA_STEPS,
      open: async () => {
        attempts++;
        throw new ClusterError('cannot reach https://10.0.0.1:6443: connection refused', {
          reason: 'Connection',
          hint: 'check the server address and that the API server is up',
        });
      },
    });
    ui = renderWizard(store);
    // Then the error and its hint are on screen, and r is the way forward
    const frame = await ui.waitFor('connection refused', 'r retry');
    expect(frame).toContain('check the server address');
    expect(frame).toContain('not taken: the connection or the inventory failed');
    expect(frame).not.toContain('enter phases');
    // When the operator presses r, then it tries again
    await ui.press('r');
    await ui.waitFor('connection refused');
    expect(attempts).toBe(2);
    // And q quits with the error's exit code
    await ui.press('q');
    expect(ui.exits).toEqual([{ code: 4, immediate: false }]);
  });

  it('on a manifest source: offline, read-only without --out, no permission check', async () => {
    ui = renderWizard(manifestStore());
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toContain('manifests');
    expect(frame).toContain('offline, read-only: pass --out DIR to write remediated manifests');
    expect(frame).toContain('none needed: a manifest source has no API server');
    expect(frame).toMatch(/kube-harden › Connect .*offline, read-only/);
  });
});

describe('connect screen, coming back', () => {
  it('says how many runs the journal holds for this cluster, and when the last one was', async () => {
    // Given one run applied on this cluster in an earlier session
    const cluster = await FakeCluster.fromManifests(LEGACY);
    const options = sessionOptions();
    const open = async () => ({ reader: cluster, writer: cluster, close() {} });
    const first = createHardenStore({ options, steps: PSA_STEPS, open });
    await first.getState().connect();
    await first.getState().inventory();
    const plan = await first.getState().planSteps(['psa-warn-audit']);
    first.getState().toggle(plan.changes[0]?.id as string);
    await first.getState().apply();
    // When the wizard opens again two days later
    const later = createHardenStore({
      options: { ...options, now: () => new Date(Date.now() + 2 * 86_400_000 + 60_000) },
      steps: PSA_STEPS,
      open,
    });
    ui = renderWizard(later);
    // Then the connection says so
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toContain('runs     1 run recorded on this cluster (1 not undone), last 2 days ago');
  });

  it('says nothing of runs when none is recorded', async () => {
    const { store } = await clusterStore();
    ui = renderWizard(store);
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).not.toContain('recorded on this cluster');
  });
});
