/**
 * Colour: the one test with colour on (the other tests run with FORCE_COLOR=0). The diff's added lines are green
 * and removed lines red; with colour off (--no-color) the same frame has no escape codes and still reads, since
 * `+`/`-` stay in the text.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

async function diff(color: boolean) {
  const { store } = await clusterStore();
  ui = renderWizard(store, { color });
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  await ui.press('down', 'p');
  // The changes screen (the phases list may show a RISK column too).
  await ui.waitFor('Phase 1 changes');
  await ui.press('enter');
  return ui.waitFor('--- live/v1/Namespace/cert-manager');
}

describe('colour', () => {
  beforeAll(() => {
    expect(process.env.FORCE_COLOR).toBe('1');
  });

  it('colours the diff: + green, - red, @@ cyan', async () => {
    const frame = await diff(true);
    expect(frame).toMatch(/\u001b\[32m\+ {4}pod-security\.kubernetes\.io\/audit: baseline/);
    expect(frame).toMatch(/\u001b\[36m@@ /);
  });

  it('--no-color: no escape codes at all, the diff still reads', async () => {
    const frame = await diff(false);
    expect(frame).not.toMatch(/\u001b\[3\dm/);
    expect(frame).toContain('+    pod-security.kubernetes.io/audit: baseline');
  });
});
