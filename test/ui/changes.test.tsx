/**
 * Changes and diff: the proposed changes of a phase, each toggleable (all / none) with risk and reason; the
 * scrollable unified diff per change with the API server's warnings above it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clusterStore, type Driven, manifestStore, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const SHOP_WARNING =
  'existing pods in namespace "shop" violate the new PodSecurity enforce level "restricted:v1.33"';

async function changes(store: Parameters<typeof renderWizard>[0], phaseIndex = 1, options = {}) {
  ui = renderWizard(store, options);
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  for (let i = 0; i < phaseIndex; i++) await ui.press('down');
  await ui.press('p');
  return ui.waitFor(`Phase ${phaseIndex} changes`, 'RISK');
}

const rows = (frame: string) =>
  frame.split('\n').filter((l) => /^[ ›] (\[[ x-]\] )?(low|disruptive|none|manual) /.test(l));

describe('changes screen', () => {
  it('lists the previewed changes with risk, operation, target and diff size; nothing selected by default', async () => {
    const { store } = await clusterStore({
      warnings: (o) => (o.metadata.name === 'shop' ? [SHOP_WARNING] : []),
    });
    const frame = await changes(store);
    expect(frame).toMatch(/Phase 1 changes · 8 changes · 0 selected · plan \d{8}T\d{6}Z-[0-9a-f]+/);
    expect(frame).toContain('Warn and audit modes show which workloads would violate');
    const listed = rows(frame);
    expect(listed).toHaveLength(8);
    expect(listed[0]).toMatch(/^› \[ \] low +update namespace\/cert-manager +\+9 -0/);
    expect(listed.find((l) => l.includes('namespace/shop'))).toMatch(/⚠1/);
    // The reason of the selected change, and how it was previewed
    expect(frame).toContain('infrastructure namespace: warn and audit at baseline:v1.33');
    expect(frame).toContain('preview: server-side dry-run');
  });

  it('space toggles one (and moves on), a selects all, n none', async () => {
    const { store } = await clusterStore();
    await changes(store);
    await ui?.press('space');
    let frame = await ui!.waitFor('1 selected');
    expect(rows(frame)[0]).toMatch(/^ {2}\[x\] low/);
    expect(rows(frame)[1]).toMatch(/^› \[ \] low/);
    expect(store.getState().selected).toEqual(['psa-warn-audit/namespace/cert-manager']);
    await ui?.press('a');
    frame = await ui!.waitFor('8 selected');
    expect(rows(frame).every((l) => l.includes('[x]'))).toBe(true);
    await ui?.press('n');
    frame = await ui!.waitFor('0 selected');
    expect(store.getState().selected).toEqual([]);
  });

  it('c with nothing selected says how to select instead of asking', async () => {
    const { store } = await clusterStore();
    await changes(store);
    await ui?.press('c');
    await ui!.waitFor('no change selected: select with space, or all with a');
  });

  it('read-only: the changes can be read, not selected or applied', async () => {
    const { store } = await clusterStore({ readOnly: true });
    const frame = await changes(store, 1, { readOnly: true });
    expect(frame).not.toContain('[ ]');
    expect(frame).not.toMatch(/space toggle|a all|c apply/);
    expect(frame).toContain('read-only');
    await ui?.press('space', 'a', 'c');
    expect(store.getState().selected).toEqual([]);
    expect(ui!.lastFrame()).not.toContain('Confirm');
  });

  it('Enter shows the diff with the API server warnings above it; ←→ walk the changes; Esc back', async () => {
    const { store } = await clusterStore({
      warnings: (o) => (o.metadata.name === 'shop' ? [SHOP_WARNING] : []),
    });
    await changes(store);
    while (!/› .*namespace\/shop/.test(ui!.lastFrame())) await ui?.press('down');
    await ui?.press('enter');
    const frame = await ui!.waitFor('namespace/shop · update · risk low · psa-warn-audit');
    const lines = frame.split('\n');
    const warning = lines.findIndex((l) => l.startsWith('⚠ warning: existing pods in namespace "shop"'));
    const header = lines.findIndex((l) => l.startsWith('--- live/v1/Namespace/shop'));
    expect(warning).toBeGreaterThan(0);
    expect(header).toBeGreaterThan(warning);
    expect(frame).toContain('+++ proposed/v1/Namespace/shop');
    expect(frame).toContain('+    pod-security.kubernetes.io/audit: restricted');
    expect(frame).toMatch(/lines 1–\d+ of \d+ · change 8 of 8 · not selected/);
    // ← goes to the previous change
    await ui?.press('left');
    await ui!.waitFor('namespace/payments · update', 'change 7 of 8');
    // space selects it from here
    await ui?.press('space');
    await ui!.waitFor('change 7 of 8 · selected');
    await ui?.press('esc');
    await ui!.waitFor('1 selected');
  });

  it('scrolls a diff taller than the screen', async () => {
    const { store } = await clusterStore();
    await changes(store, 1, { size: { columns: 80, rows: 14 } });
    await ui?.press('enter');
    const top = await ui!.waitFor(/lines 1–\d+ of \d+/);
    const [, shownTo, total] = /lines 1–(\d+) of (\d+)/.exec(top) ?? [];
    expect(Number(total)).toBeGreaterThan(Number(shownTo));
    expect(top).toContain('--- live/v1/Namespace/cert-manager');
    await ui?.press('end');
    const bottom = await ui!.waitFor(new RegExp(`–${total} of ${total}`));
    expect(bottom).not.toContain('--- live/v1/Namespace/cert-manager');
    await ui?.press('home');
    await ui!.waitFor('lines 1–');
  });

  it('offline: previews without an API server, and the diff says so', async () => {
    const frame = await changes(manifestStore());
    expect(frame).toContain('preview: offline (no API server)');
    expect(frame).not.toContain('space toggle');
  });
});

describe('optional changes', () => {
  /** A ConfigMap change in shop; an optional one comes with its source of truth. */
  const cm = (name: string, optional = false) => ({
    kind: 'apply' as const,
    id: `cm/${name}`,
    target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name },
    desired: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'shop' },
      data: { a: '1' },
    },
    risk: 'low' as const,
    reason: optional ? 'nice to have' : 'needed',
    ...(optional ? { optional: true, exportPatch: 'Helm release shop/web' } : {}),
  });

  it('are offered but opt-in: a leaves them out, space selects one', async () => {
    const { fixedStep } = await import('../support/test-steps.js');
    const steps = [fixedStep('t-opt', 1, [cm('needed', false), cm('extra', true)])] as never[];
    const { store } = await clusterStore({ steps });
    const frame = await changes(store, 1, { steps });
    expect(frame).toMatch(/configmap shop\/extra +\+\d+ -0 +optional/);
    await ui?.press('a');
    await ui!.waitFor('1 selected');
    expect(store.getState().selected).toEqual(['cm/needed']);
    await ui?.press('down');
    const detail = await ui!.waitFor('optional: a selects it only with space');
    expect(detail).toMatch(/source of truth: Helm release shop\/web \(change it there\s+too\)/);
    await ui?.press('space');
    await ui!.waitFor('2 selected');
    expect(store.getState().selected).toEqual(['cm/needed', 'cm/extra']);
  });

  it("of an opt-in step are left out by a too, in the wizard and in the store's select all", async () => {
    const { fixedStep } = await import('../support/test-steps.js');
    const steps = [
      fixedStep('t-base', 1, [cm('base')]),
      { ...fixedStep('t-picked', 1, [cm('picked')]), optIn: true },
    ] as never[];
    const { store } = await clusterStore({ steps });
    await changes(store, 1, { steps });
    await ui?.press('a');
    await ui!.waitFor('1 selected');
    expect(store.getState().selected).toEqual(['cm/base']);
    store.getState().selectNone();
    store.getState().selectAll();
    expect(store.getState().selected).toEqual(['cm/base']);
  });
});
