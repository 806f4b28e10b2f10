/** Summary, runs and undo from the wizard: preview (dry-run diff per object), y/N, outcomes. */
import { afterEach, describe, expect, it } from 'vitest';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const NS = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });

async function applyTwo() {
  const { store, cluster } = await clusterStore();
  ui = renderWizard(store);
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  await ui.press('down', 'p');
  await ui.waitFor('Phase 1 changes', 'RISK');
  await ui.press('space', 'space', 'c');
  await ui.waitFor('Apply?');
  await ui.press('y');
  await ui.waitFor('complete — 2 of 2 changes applied');
  return { store, cluster, runId: store.getState().report?.runId as string };
}

describe('undo from the wizard', () => {
  it('u on the summary previews the undo; Enter shows its diff; y restores; the phase is no longer applied', async () => {
    const { store, cluster, runId } = await applyTwo();
    expect(cluster.object(NS('ci'))?.metadata.labels?.['pod-security.kubernetes.io/warn']).toBe('restricted');
    await ui?.press('u');
    let frame = await ui!.waitFor(`Undo run ${runId} on context kind-test: 2 objects to change`);
    expect(frame).toMatch(/› restore +namespace\/ci: restore the fields the run changed +\+0 -9/);
    expect(frame).toMatch(/restore +namespace\/cert-manager/);
    expect(frame).toContain(`Undo 2 changes of run ${runId} on context "kind-test"?`);
    expect(frame).toContain('[y/N]');
    // Enter shows the diff of the undo, never confirms
    await ui?.press('enter');
    frame = await ui!.waitFor('namespace/ci · undo: restore');
    expect(frame).toContain('-    pod-security.kubernetes.io/warn: restricted');
    expect(cluster.writes).toHaveLength(2);
    await ui?.press('esc');
    await ui!.waitFor('[y/N]');
    await ui?.press('y');
    frame = await ui!.waitFor(`Run ${runId}: undone`, `run ${runId} undone`);
    expect(frame).toMatch(/restored +namespace\/ci/);
    expect(cluster.writes.slice(2)).toEqual(['patch namespace/ci', 'patch namespace/cert-manager']);
    expect(cluster.object(NS('ci'))?.metadata.labels?.['pod-security.kubernetes.io/warn']).toBeUndefined();
    // Esc (or Enter) returns to the phases: phase 1 is not applied any more
    await ui?.press('esc');
    frame = await ui!.waitFor('PHASE');
    expect(frame).toMatch(/★ 1 Pod Security warn \+ audit +findings/);
    expect(store.getState().runs.find((r) => r.runId === runId)?.state).toBe('undone');
  });

  it('n declines the undo: nothing is written', async () => {
    const { cluster } = await applyTwo();
    await ui?.press('u');
    await ui!.waitFor('[y/N]');
    await ui?.press('n');
    await ui!.waitFor('not confirmed: nothing was changed');
    expect(cluster.writes).toHaveLength(2);
  });

  it('r on the phases lists the runs of this context; u previews the undo of the one selected', async () => {
    const { runId } = await applyTwo();
    await ui?.press('enter');
    await ui!.waitFor('PHASE');
    await ui?.press('r');
    const frame = await ui!.waitFor('RUN', 'STARTED');
    expect(frame).toMatch(new RegExp(`› ${runId} .*psa-warn-audit +2/2 +complete`));
    expect(frame).toContain('journal ');
    await ui?.press('u');
    await ui!.waitFor(`Undo run ${runId} on context kind-test`);
  });

  it('read-only: the runs can be listed, not undone', async () => {
    const { store } = await clusterStore({ readOnly: true });
    ui = renderWizard(store, { readOnly: true });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    const frame = await ui.waitFor('PHASE');
    expect(frame).toContain('r runs');
    await ui.press('r');
    const runs = await ui.waitFor('no runs recorded');
    expect(runs).not.toContain('u undo');
    await ui.press('u');
    expect(ui.lastFrame()).not.toContain('Undo run');
  });
});
