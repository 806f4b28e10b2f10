/**
 * Phase 5's allow-list is edited in the wizard before the preview (SettingScreen's list mode over
 * SettingSpec.multiple/ask): the proposed list (the registries in use) with what each entry covers (images and
 * workloads, from the report's registry table) and what no entry covers; add, edit, remove; an invalid entry is
 * refused inline with the `--allow-registry` parser's words and stays typed; Enter previews with the list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from '../../src/engine/types.js';
import { registriesEnforce } from '../../steps/registries-enforce.js';
import { registriesWarn } from '../../steps/registries-warn.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

const STEPS = [registriesWarn, registriesEnforce] as unknown as readonly Step<never>[];
const KEY = 'registries-warn.allow';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

async function waitUntil<T>(get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('phase 5: the allow-list editor before the preview', () => {
  it('shows the proposal with counts; add (invalid, then fixed), edit, remove; previews with the list', async () => {
    const { store } = await clusterStore({ steps: STEPS });
    ui = renderWizard(store, { steps: STEPS, size: { columns: 100, rows: 30 } });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    let frame = await ui.waitFor('Registries allowed');
    expect(frame).toContain('--allow-registry');
    expect(frame).toContain('proposed by the step');
    expect(store.getState().plan).toBeUndefined(); // nothing planned before the list is seen
    // The proposal: the registry hosts in use outside the system namespaces, each with its images and workloads.
    const proposed = ((await import('../../steps/kit/registries.js')).ALLOW_REGISTRY.ask?.proposed?.({
      snapshot: store.getState().snapshot as never,
      assessment: store.getState().assessment as never,
      options: store.getState().stepOptions(),
    }) ?? []) as string[];
    expect(proposed.length).toBeGreaterThan(1);
    const first = proposed[0] as string;
    const row = store.getState().assessment?.registries.find((r) => r.registry === first);
    expect(frame).toMatch(
      new RegExp(
        `› ${first.replace(/\./g, '\\.')} +${row?.images} image\\(s\\), ${row?.workloads} workload\\(s\\)`,
      ),
    );
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(100);

    // Add an invalid entry: refused inline with the parser's words; what was typed stays.
    await ui.press('a');
    await ui.waitFor('New entry (HOST[/PATH])');
    await ui.type('nginx');
    await ui.press('enter');
    frame = await ui.waitFor('does not start with a registry host');
    expect(frame).toContain('"nginx" does not start with a registry host');
    expect(frame).toContain('docker.io/library/nginx');
    expect(frame).toContain('> nginx');
    // Fixed: kept, at the end of the list.
    await ui.press('ctrl+u');
    await ui.type('ghcr.io/acme');
    await ui.press('enter');
    frame = await ui.waitFor(/› ghcr\.io\/acme +/);
    expect(frame).toContain('edited here');

    // Remove the first entry; what no entry covers is listed.
    await ui.press('home', 'd');
    frame = await ui.waitFor(`not allowed: ${first}`);

    // Edit the (new) first entry into a repository prefix.
    const second = proposed[1] as string;
    await ui.press('e');
    await ui.waitFor(`Edit ${second}`);
    await ui.type('/team');
    await ui.press('enter');
    await ui.waitFor(`› ${second}/team`);

    // Enter asks phase 5's next question (registries-enforce's soak); Enter there previews with the edited list.
    await ui.press('enter');
    frame = await ui.waitFor('after how many days of warnings');
    // The recommended soak first, under the cursor; Enter takes it.
    // … marked as the value in effect (the setting holds the parsed 7, the choice reads 7d).
    expect(frame).toMatch(/› • 7d +after a week of warnings/);
    expect(frame).toContain('(2/2)');
    await ui.press('enter');
    const plan = await waitUntil(() => store.getState().plan);
    const expected = [`${second}/team`, ...proposed.slice(2), 'ghcr.io/acme'].sort();
    expect(store.getState().settings[KEY]).toEqual(expected);
    expect(store.getState().settings['registries-enforce.soak']).toBe(7);
    const policy = plan.changes.find((c) => c.id === 'registries-warn/policy')?.desired as unknown as {
      spec: { variables: Array<{ expression: string }> };
    };
    expect(policy.spec.variables[0]?.expression).toBe(
      `[${[...expected]
        .sort()
        .map((e) => `'${e}'`)
        .join(', ')}]`,
    );

    // Back (Esc, through the soak question) to the list: it shows the setting in effect.
    await ui.press('esc');
    await ui.waitFor('after how many days of warnings');
    await ui.press('esc');
    frame = await ui.waitFor('Registries allowed');
    expect(frame).toMatch(new RegExp(`^ +${second}/team`, 'm'));
    expect(frame).toContain('5 entries in effect');
  });

  it('an empty list is not previewed: the notice says why', async () => {
    const { store } = await clusterStore({ steps: STEPS });
    ui = renderWizard(store, { steps: STEPS, size: { columns: 100, rows: 30 } });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    await ui.waitFor('Registries allowed');
    for (let i = 0; i < 12; i++) await ui.press('d');
    await ui.waitFor('(empty: a adds an entry)');
    await ui.press('enter');
    await ui.waitFor('the list is empty');
    expect(store.getState().plan).toBeUndefined();
  });
});
