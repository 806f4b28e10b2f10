/**
 * Phase detail: the phase's findings — filterable by namespace, severity and control, excepted ones visible
 * and marked — in a virtualized list that scrolls 10,000 rows.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHardenStore } from '../../src/store/store.js';
import { bigSnapshot, snapshotStore } from './support/fixtures.js';
import {
  type Driven,
  LEGACY,
  manifestStore,
  PSA_STEPS,
  renderWizard,
  sessionOptions,
} from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const EXCEPTIONS = join(LEGACY, '..', 'legacy-cluster-exceptions.yaml');

async function openPhase(phaseIndex: number, store = manifestStore(), options = {}) {
  ui = renderWizard(store, options);
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  for (let i = 0; i < phaseIndex; i++) await ui.press('down');
  await ui.press('enter');
  return ui.waitFor('SEV');
}

const rows = (frame: string) => frame.split('\n').filter((l) => /^[ ›] (CRIT|HIGH|MED |LOW |INFO) /.test(l));

describe('phase detail', () => {
  it('phase 0 lists every finding, most severe first, with the selected one explained below', async () => {
    const frame = await openPhase(0);
    expect(frame).toContain('Phase 0 · Inventory privilege exceptions · read-only');
    expect(frame).toContain('namespace: any  severity: any  control: any  excepted: shown   103 of 103');
    expect(rows(frame)[0]).toMatch(
      /^› CRIT KH-RBAC-CLUSTER-ADMIN +ClusterRoleBinding ci-deployer-cluster-admin/,
    );
    expect(frame).toContain('critical KH-RBAC-CLUSTER-ADMIN: ClusterRoleBinding ci-deployer-cluster-admin');
    expect(frame).toMatch(/next: Replace the binding with a role that grants only what the subject needs/);
    // Read-only phase: no plan key, no settings.
    expect(frame).not.toContain('p changes');
    expect(frame).not.toContain('settings:');
  });

  it('filters by namespace with a picker, then by minimum severity, then clears', async () => {
    await openPhase(0);
    await ui?.press('n');
    let frame = await ui!.waitFor('Filter by namespace');
    expect(frame).toContain('every namespace (103)');
    expect(frame).toMatch(/legacy-batch \(\d+\)/);
    // When the operator picks legacy-batch
    while (!/› +legacy-batch/.test(ui!.lastFrame())) await ui?.press('down');
    await ui?.press('enter');
    frame = await ui!.waitFor('namespace: legacy-batch');
    const listed = rows(frame);
    expect(listed.length).toBeGreaterThan(3);
    expect(listed.every((l) => l.includes('legacy-batch'))).toBe(true);
    const count = Number(/(\d+) of 103/.exec(frame)?.[1]);
    // Then at least high severity
    await ui?.press('v');
    await ui!.waitFor('Filter by minimum severity');
    await ui?.press('down', 'down', 'enter');
    frame = await ui!.waitFor('severity: high+');
    expect(rows(frame).every((l) => /^[ ›] (CRIT|HIGH) /.test(l))).toBe(true);
    expect(Number(/(\d+) of 103/.exec(frame)?.[1])).toBeLessThan(count);
    // And 0 clears every filter
    await ui?.press('0');
    await ui!.waitFor('103 of 103');
  });

  it('filters by control; Esc closes the picker without changing the filter', async () => {
    await openPhase(0);
    await ui?.press('c');
    await ui!.waitFor('Filter by control');
    await ui?.press('esc');
    await ui!.waitFor('control: any');
    await ui?.press('c');
    await ui!.waitFor('Filter by control');
    while (!/› +KH-IMAGE-LATEST/.test(ui!.lastFrame())) await ui?.press('down');
    await ui?.press('enter');
    const frame = await ui!.waitFor('control: KH-IMAGE-LATEST');
    expect(rows(frame).length).toBe(3);
    expect(rows(frame).every((l) => l.includes('KH-IMAGE-LATEST'))).toBe(true);
  });

  it('shows excepted findings, marked, and hides them on x', async () => {
    // Given the legacy example with its exceptions register
    const store = createHardenStore({
      options: sessionOptions({ manifests: LEGACY, exceptionsFile: EXCEPTIONS }),
      steps: PSA_STEPS,
    });
    const frame = await openPhase(0, store);
    expect(frame).toContain('of 104');
    await ui?.press('c');
    await ui!.waitFor('Filter by control');
    while (!/› +KH-PSS-BASELINE/.test(ui!.lastFrame())) await ui?.press('down');
    await ui?.press('enter');
    let f = await ui!.waitFor('control: KH-PSS-BASELINE');
    const excepted = rows(f).filter((l) => l.includes('(excepted)'));
    // (calico-node's finding is info: kube-system's tier targets privileged; so it sorts after the high one)
    expect(excepted.map((l) => /(DaemonSet \S+)/.exec(l)?.[1])).toEqual([
      'DaemonSet monitoring/node-exporter:',
      'DaemonSet kube-system/calico-node:',
    ]);
    while (!/› .*\(excepted\)/.test(ui!.lastFrame())) await ui?.press('down');
    f = ui!.lastFrame();
    expect(f).toMatch(
      /excepted by (calico-node-cni|node-exporter-host-access): reported, not counted as open/,
    );
    await ui?.press('x');
    f = await ui!.waitFor('excepted: hidden');
    expect(rows(f).some((l) => l.includes('(excepted)'))).toBe(false);
    expect(rows(f)).toHaveLength(2);
  });

  it('a step phase shows the findings of its controls and offers p to preview its changes', async () => {
    const frame = await openPhase(2);
    expect(frame).toMatch(/Phase 2 · Pod Security enforce by tier · risk disruptive/);
    // The settings its steps declare, with the values in effect (phase 0 has none).
    expect(frame).toContain('settings: --audit-only-max-age 30d (psa-enforce) (flags of plan/migrate)');
    const controls = new Set(rows(frame).map((l) => /(KH-[A-Z-]+)/.exec(l)?.[1]));
    for (const c of controls)
      expect(['KH-PSS-BASELINE', 'KH-PSS-RESTRICTED', 'KH-PSA-NOT-ENFORCED', 'KH-POD-ROOT']).toContain(c);
    expect(frame).toContain('p changes');
  });

  it('scrolls 10,000+ findings: only the visible rows are rendered, End reaches the last', async () => {
    // Given a cluster with 1,500 failing workloads
    const snap = bigSnapshot(1500);
    const frame = await openPhase(0, snapshotStore(snap));
    const total = Number(/ of ([\d,]+)/.exec(frame)?.[1]?.replace(/,/g, ''));
    expect(total).toBeGreaterThanOrEqual(10_000);
    // Then the frame holds one screenful, not 10,000 rows
    expect(rows(frame)).toHaveLength(30 - 1 - 4 - 8);
    // When the operator presses End, then the last finding is selected and shown
    const started = performance.now();
    await ui?.press('end');
    const end = await ui!.waitFor(/› (CRIT|HIGH|MED |LOW |INFO) /);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(rows(end).at(-1)).toMatch(/^› /);
    // And PgUp moves the window and the cursor a page up
    const last = rows(end).at(-1);
    await ui?.press('pgup');
    const up = rows(ui!.lastFrame());
    expect(up.filter((l) => l.startsWith('› '))).toHaveLength(1);
    expect(up).not.toContain(last);
    // (a page is one row less than the window: the old top row is now the selected bottom row)
    expect(up.at(-1)).toBe(`› ${rows(end)[0]?.slice(2)}`);
  });
});
