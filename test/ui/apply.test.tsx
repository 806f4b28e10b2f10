/**
 * Confirm, applying, summary: y/N with no destructive default for low-risk changes, the context name typed for
 * disruptive ones; per-change progress; Ctrl-C stops after the change in flight, a second Ctrl-C quits; the
 * summary names the run and the exact undo command.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeCluster } from './support/fake-cluster.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const NS = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });

async function selectedChanges(
  cluster: { store: Parameters<typeof renderWizard>[0] },
  phaseIndex: number,
  keys: string[],
) {
  ui = renderWizard(cluster.store);
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  for (let i = 0; i < phaseIndex; i++) await ui.press('down');
  await ui.press('p');
  await ui.waitFor(`Phase ${phaseIndex} changes`, 'RISK');
  await ui.press(...keys);
}

const label = (c: FakeCluster, ns: string, key: string) => c.object(NS(ns))?.metadata.labels?.[key];

describe('confirm (low risk: y/N)', () => {
  it('Enter alone does not confirm: nothing is written, the changes stay selected', async () => {
    const { store, cluster } = await clusterStore();
    await selectedChanges({ store }, 1, ['space', 'space', 'c']);
    const frame = await ui!.waitFor(
      'Apply 2 changes of phase 1 to context "kind-test" (https://10.0.0.1:6443)?',
    );
    expect(frame).toContain('Apply? [y/N] (Enter alone answers no)');
    expect(frame).toMatch(/low +update namespace\/cert-manager/);
    expect(frame).toContain('y yes');
    await ui?.press('enter');
    await ui!.waitFor('not confirmed: nothing was changed');
    expect(cluster.writes).toEqual([]);
    expect(store.getState().selected).toHaveLength(2);
    // n says no as well
    await ui?.press('c');
    await ui!.waitFor('Apply?');
    await ui?.press('n');
    await ui!.waitFor('not confirmed: nothing was changed');
    expect(cluster.writes).toEqual([]);
  });

  it('y applies, with per-change progress, then the summary with the run id and the exact undo command', async () => {
    const { store, cluster } = await clusterStore();
    cluster.hold();
    await selectedChanges({ store }, 1, ['space', 'space', 'c']);
    await ui!.waitFor('Apply?');
    await ui?.press('y');
    // Then the first change is in flight, the second pending
    let frame = await ui!.waitFor('Applying 2 changes to context kind-test: 0 of 2 done');
    expect(frame).toMatch(/in flight +namespace\/cert-manager/);
    expect(frame).toMatch(/· pending +namespace\/ci/);
    expect(frame).toContain('Ctrl-C stops after the change in flight');
    cluster.release();
    frame = await ui!.waitFor(/✓ applied +namespace\/cert-manager/, /in flight +namespace\/ci/);
    expect(frame).toContain('1 of 2 done');
    cluster.open();
    frame = await ui!.waitFor('complete — 2 of 2 changes applied');
    const runId = store.getState().report?.runId as string;
    expect(frame).toContain(`Run ${runId}: complete`);
    expect(frame).toContain(`kube-harden undo ${runId} --context kind-test`);
    expect(frame).toMatch(/✓ applied +namespace\/ci/);
    expect(frame).toContain('u undo');
    expect(label(cluster, 'ci', 'pod-security.kubernetes.io/warn')).toBe('restricted');
    expect(cluster.writes).toEqual(['apply namespace/cert-manager', 'apply namespace/ci']);
    // And the phases show phase 1 in progress (2 of its namespaces, just now: the rest is left), still recommended;
    // phase 2 in progress too: the warn it builds on is live
    await ui?.press('enter');
    frame = await ui!.waitFor('PHASE');
    expect(frame).toMatch(/★ 1 Pod Security warn \+ audit +in progress .*2 applied/);
    expect(frame).toMatch(/in progress: applied just now; \d+ open findings left/);
    expect(frame).toMatch(/ {2}2 Pod Security enforce by tier +in progress /);
  });
});

describe('confirm (disruptive: type the context name)', () => {
  it('needs the exact context name; q and y are just letters here; Esc cancels', async () => {
    const { store, cluster } = await clusterStore();
    await selectedChanges({ store }, 2, ['a', 'c']);
    let frame = await ui!.waitFor('Type the context name "kind-test" to confirm');
    expect(frame).toMatch(/changes? (is|are) disruptive/);
    // The step's own words on the impact, and each change's risk
    expect(frame).toContain('5 changes are disruptive. 5 namespace(s) start rejecting violating pods.');
    expect(frame).toMatch(/disruptive update namespace\/shop/);
    expect(frame).toContain('enter confirm');
    expect(frame).not.toContain('q quit');
    // y and q are typed, not obeyed
    await ui?.type('yq');
    frame = await ui!.waitFor('> yq█');
    expect(ui?.exits).toEqual([]);
    await ui?.press('enter');
    frame = await ui!.waitFor('"yq" is not "kind-test": nothing was applied');
    expect(cluster.writes).toEqual([]);
    await ui?.press('backspace', 'backspace');
    await ui?.type('kind-tes');
    await ui?.press('enter');
    await ui!.waitFor('"kind-tes" is not "kind-test"');
    expect(cluster.writes).toEqual([]);
    await ui?.press('esc');
    await ui!.waitFor('not confirmed: nothing was changed');
    expect(cluster.writes).toEqual([]);
  });

  it('applies once the context name is typed exactly', async () => {
    const { store, cluster } = await clusterStore();
    await selectedChanges({ store }, 2, ['a', 'c']);
    await ui!.waitFor('Type the context name');
    const count = store.getState().selected.length;
    await ui?.type('kind-test');
    await ui?.press('enter');
    await ui!.waitFor(`complete — ${count} of ${count} change`);
    expect(cluster.writes).toHaveLength(count);
    expect(cluster.writes.every((w) => w.startsWith('apply namespace/'))).toBe(true);
    expect(ui!.lastFrame()).toContain('Verification');
  });
});

describe('applying: Ctrl-C and q', () => {
  it('the first Ctrl-C stops after the change in flight: it completes, the rest is not sent', async () => {
    const { store, cluster } = await clusterStore();
    cluster.hold();
    await selectedChanges({ store }, 1, ['a', 'c']);
    await ui!.waitFor('Apply?');
    await ui?.press('y');
    await ui!.waitFor(/in flight +namespace\/cert-manager/);
    cluster.release();
    await ui!.waitFor(/in flight +namespace\/ci/);
    await ui?.press('ctrl+c');
    const stopping = await ui!.waitFor('stopping after the change in flight… (Ctrl-C again to quit now)');
    expect(stopping).toContain('stopping after the change in flight; nothing more is sent');
    expect(ui?.exits).toEqual([]);
    // The change in flight completes…
    cluster.release();
    const frame = await ui!.waitFor('interrupted — 2 of 8 changes applied');
    expect(frame).toMatch(/✓ applied +namespace\/ci/);
    expect(frame).toMatch(/· skipped +namespace\/data: interrupted/);
    // …and nothing else was sent
    expect(cluster.writes).toEqual(['apply namespace/cert-manager', 'apply namespace/ci']);
    expect(cluster.pendingWrites).toBe(0);
  });

  it('a second Ctrl-C quits at once', async () => {
    const { store, cluster } = await clusterStore();
    cluster.hold();
    await selectedChanges({ store }, 1, ['a', 'c']);
    await ui!.waitFor('Apply?');
    await ui?.press('y');
    await ui!.waitFor(/in flight/);
    await ui?.press('ctrl+c');
    await ui!.waitFor('Ctrl-C again to quit now');
    await ui?.press('ctrl+c');
    expect(ui?.exits).toEqual([{ code: 130, immediate: true }]);
    cluster.open();
  });

  it('q during a run asks first (N by default); y quits after the change in flight', async () => {
    const { store, cluster } = await clusterStore();
    cluster.hold();
    await selectedChanges({ store }, 1, ['a', 'c']);
    await ui!.waitFor('Apply?');
    await ui?.press('y');
    await ui!.waitFor(/in flight/);
    await ui?.press('q');
    let frame = await ui!.waitFor('A run is in progress. Quit after the change in flight? [y/N]');
    expect(frame).toContain('y quit');
    await ui?.press('enter');
    frame = await ui!.waitFor('Ctrl-C stops after the change in flight');
    expect(frame).not.toContain('A run is in progress');
    expect(ui?.exits).toEqual([]);
    // Esc does not leave a running apply either
    await ui?.press('esc');
    await ui!.waitFor('a run is in progress: Ctrl-C stops it after the change in flight');
    await ui?.press('q');
    await ui!.waitFor('Quit after the change in flight?');
    await ui?.press('y');
    await ui!.waitFor('quitting after the change in flight');
    expect(ui?.exits).toEqual([]);
    cluster.release();
    for (let i = 0; i < 100 && ui?.exits.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ui?.exits).toEqual([{ code: 130, immediate: false }]);
    expect(cluster.writes).toEqual(['apply namespace/cert-manager']);
  });
});

describe('conflicting fields', () => {
  const conflicts = {
    shop: [{ manager: 'helm', field: '.metadata.labels.pod-security.kubernetes.io/warn' }],
  };

  it('are shown, reported as a conflict when applied as is, and taken over only on t', async () => {
    const { store, cluster } = await clusterStore({ conflicts });
    await selectedChanges({ store }, 1, []);
    let frame = ui!.lastFrame();
    expect(frame).toMatch(/namespace\/shop .*conflict$/m);
    while (!/› .*namespace\/shop/.test(ui!.lastFrame())) await ui?.press('down');
    frame = ui!.lastFrame();
    expect(frame).toContain('1 conflicting field');
    await ui?.press('enter');
    frame = await ui!.waitFor('namespace/shop · update');
    expect(frame).toContain(
      'preview unavailable: conflict: .metadata.labels.pod-security.kubernetes.io/warn is owned by "helm"',
    );
    expect(frame).toContain('apply reports a conflict unless taken over with t');
    await ui?.press('esc');
    // Applied as is: the API server refuses, the summary says who owns the field
    await ui?.press('space', 'c');
    await ui!.waitFor('Apply?');
    await ui?.press('y');
    frame = await ui!.waitFor('0 of 1 change applied');
    expect(frame).toMatch(/✗ conflict +namespace\/shop/);
    expect(frame).toContain('fields owned by: .metadata.labels.pod-security.kubernetes.io/warn (helm)');
    expect(cluster.writes).toEqual([]);
  });

  it('t takes the fields over (force) for that change only, after saying so', async () => {
    const { store, cluster } = await clusterStore({ conflicts });
    await selectedChanges({ store }, 1, []);
    while (!/› .*namespace\/shop/.test(ui!.lastFrame())) await ui?.press('down');
    await ui?.press('t');
    await ui!.waitFor('will take over 1 field from helm (force)');
    expect(ui!.lastFrame()).toContain('1 conflicting field (taken over)');
    await ui?.press('space', 'c');
    const frame = await ui!.waitFor('Apply?');
    expect(frame).toContain('1 change takes over fields owned by other field managers (force).');
    await ui?.press('y');
    await ui!.waitFor('complete — 1 of 1 change applied');
    expect(cluster.writes).toEqual(['apply namespace/shop']);
  });
});
