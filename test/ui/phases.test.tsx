/** Phases: the rollout in order with status and counts; the recommended next phase is marked. */
import { afterEach, describe, expect, it } from 'vitest';
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

async function phases(
  store: Parameters<typeof renderWizard>[0],
  options: Parameters<typeof renderWizard>[1] = {},
) {
  ui = renderWizard(store, options);
  await ui.waitFor('enter phases');
  await ui.press('enter');
  return ui.waitFor('PHASE');
}

describe('phases screen', () => {
  it('lists phase 0 and each phase that has steps, in order, with status, counts and the next one starred', async () => {
    const { store } = await clusterStore();
    const frame = await phases(store);
    const rows = frame.split('\n').filter((l) => /^ ?[ ›] [ ★] \d /.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/› {3}0 Inventory privilege exceptions +findings +103 open +read-only/);
    expect(rows[1]).toMatch(/ {2}★ 1 Pod Security warn \+ audit +findings +7 open +-/);
    // Enforce waits for warn (Step.needs): blocked until phase 1 is in place, and the detail says by what.
    expect(rows[2]).toMatch(/ {4}2 Pod Security enforce by tier +blocked +54 open +-/);
    // Risk shows from 100 columns on.
    expect(rows[2]).toMatch(/disruptive/);
    expect(frame).toContain('phase 0: Inventory privilege exceptions · risk none');
  });

  it('moves the star when a phase is skipped, and back', async () => {
    const { store } = await clusterStore();
    await phases(store);
    await ui?.press('down', 's');
    let frame = await ui!.waitFor('skipped');
    expect(frame).toMatch(/› {3}1 Pod Security warn \+ audit +skipped/);
    expect(frame).toMatch(/ {2}★ 2 Pod Security enforce by tier/);
    await ui?.press('s');
    frame = await ui!.waitFor(/★ 1 Pod Security warn/);
    expect(frame).not.toContain('skipped');
  });

  it('? shows every key of the screen from the keymap; Esc closes it', async () => {
    const { store } = await clusterStore();
    await phases(store);
    await ui?.press('?');
    const help = await ui!.waitFor('Keys: Phases');
    expect(help).toMatch(/Enter +open the phase: its findings/);
    expect(help).toMatch(/s +mark the phase skipped/);
    expect(help).toMatch(/r +runs recorded for this context/);
    expect(help).toMatch(/Ctrl-C +stop after the change in flight/);
    expect(help).toContain('? close  esc close');
    await ui?.press('esc');
    await ui!.waitFor('PHASE');
  });

  it('q quits at once when no run is in progress', async () => {
    const { store } = await clusterStore();
    await phases(store);
    await ui?.press('q');
    expect(ui?.exits).toEqual([{ code: 0, immediate: false }]);
  });

  it('stays readable at 80 columns: every line fits, nothing wraps', async () => {
    const { store } = await clusterStore();
    const frame = await phases(store, { size: { columns: 80, rows: 24 } });
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(frame).toMatch(/★ 1 Pod Security warn \+ audit +findings/);
    expect(frame).toContain('? help');
    expect(frame).not.toContain('disruptive  ');
  });

  it('offline: no runs key (nothing was journaled on a manifest source)', async () => {
    const frame = await phases(manifestStore());
    expect(frame).not.toContain('r runs');
    expect(frame).toContain('p changes');
  });
});

describe('keys typed ahead', () => {
  it('keys that arrive together act on the row the earlier ones moved to (down, down, p previews phase 2)', async () => {
    const { store } = await clusterStore();
    await phases(store);
    // One write: Ink hands the three keys over before the screen re-renders (as when typed while it was busy).
    ui?.stdin.write('\u001B[B\u001B[Bp');
    const frame = await ui!.waitFor('Phase 2 changes');
    expect(frame).not.toContain('phase 0 is read-only');
  });
});

describe('coming back days later', () => {
  it('the phases say what the journal holds for this cluster: applied when, what is left, what is next', async () => {
    // Given phase 1 applied in an earlier session on this cluster (two of its namespaces)
    const cluster = await FakeCluster.fromManifests(LEGACY);
    const options = sessionOptions();
    const open = async () => ({ reader: cluster, writer: cluster, close() {} });
    const first = createHardenStore({ options, steps: PSA_STEPS, open });
    await first.getState().connect();
    await first.getState().inventory();
    const plan = await first.getState().planSteps(['psa-warn-audit']);
    for (const c of plan.changes.slice(0, 2)) first.getState().toggle(c.id);
    await first.getState().apply();
    // When the operator opens the wizard again three days later (same journal directory)
    const later = createHardenStore({
      options: { ...options, now: () => new Date(Date.now() + 3 * 86_400_000 + 60_000) },
      steps: PSA_STEPS,
      open,
    });
    const frame = await phases(later);
    // Then phase 1 is in progress, applied 3 days ago, with what is left; phase 2 is under way too (warn is live)
    expect(frame).toMatch(/ {2}★ 1 Pod Security warn \+ audit +in progress +\d+ open +2 applied/);
    expect(frame).toMatch(/ {4}2 Pod Security enforce by tier +in progress /);
    await ui?.press('down');
    let shown = await ui!.waitFor('phase 1: Pod Security warn + audit');
    expect(shown).toMatch(/in progress: applied 3 days ago; \d+ open findings? left/);
    await ui?.press('down');
    shown = await ui!.waitFor('phase 2: Pod Security enforce by tier');
    expect(shown).toContain(
      'in progress: Pod Security warn + audit (phase 1) applied 3 days ago; Pod Security',
    );
    // And the phase detail says it in front of its summary
    await ui?.press('up', 'enter');
    shown = await ui!.waitFor('Phase 1 · Pod Security warn + audit');
    expect(shown).toContain('in progress: applied 3 days ago;');
  });
});
