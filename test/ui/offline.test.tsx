/**
 * The manifest source: "applying" writes a remediated copy of the manifests to --out DIR (the source is never
 * modified); later phases of the same session layer on the earlier ones.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Driven, LEGACY, manifestStore, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

function copyOfLegacy(): { source: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kh-ui-offline-'));
  const source = join(dir, 'manifests');
  cpSync(LEGACY, source, { recursive: true });
  return { source, out: join(dir, 'hardened') };
}

async function toChanges(phaseIndex: number) {
  await ui!.waitFor('enter phases');
  await ui!.press('enter');
  await ui!.waitFor('PHASE');
  for (let i = 0; i < phaseIndex; i++) await ui!.press('down');
  await ui!.press('p');
  await ui!.waitFor(`Phase ${phaseIndex} changes`, 'RISK');
}

describe('offline with --out', () => {
  it('writes the confirmed changes as remediated manifests to DIR and says how to undo', async () => {
    const { source, out } = copyOfLegacy();
    const before = readFileSync(join(source, 'shop', '00-namespace.yaml'), 'utf8');
    ui = renderWizard(manifestStore(source), { outDir: out });
    await toChanges(1);
    expect(ui.lastFrame()).toContain('space toggle');
    await ui.press('a', 'c');
    let frame = await ui.waitFor(`Write 8 changes of phase 1 as remediated manifests to ${out}?`);
    expect(frame).toContain('Write? [y/N]');
    await ui.press('enter');
    await ui.waitFor('not confirmed: nothing was changed');
    expect(existsSync(out)).toBe(false);
    await ui.press('c');
    await ui.waitFor('Write? [y/N]');
    await ui.press('y');
    frame = await ui.waitFor(`Wrote 8 changes`, 'rm -r --');
    expect(frame).toMatch(/8 files\s+rewritten, 0 created/);
    expect(frame).toContain('The source manifests were not modified. To undo, remove the copy:');
    expect(frame).toMatch(/✓ written +namespace\/shop/);
    expect(frame).toContain('rewritten  shop/00-namespace.yaml');
    const written = readFileSync(join(out, 'shop', '00-namespace.yaml'), 'utf8');
    expect(written).toContain('pod-security.kubernetes.io/warn: restricted');
    expect(written).not.toContain('kube-harden.io/run-id');
    expect(readFileSync(join(source, 'shop', '00-namespace.yaml'), 'utf8')).toBe(before);
    // The phases count it as applied, in progress: its findings stay those of the source (DIR is not read back)
    await ui.press('enter');
    frame = await ui.waitFor('PHASE');
    expect(frame).toMatch(/1 Pod Security warn \+ audit +in progress +7 open +8 applied/);
    expect(frame).toContain('in progress: written in this session; 7 open findings left');
  });

  it('a later phase layers on the earlier write in the same DIR', async () => {
    const { source, out } = copyOfLegacy();
    const store = manifestStore(source);
    ui = renderWizard(store, { outDir: out });
    await toChanges(1);
    await ui.press('a', 'c', 'y');
    await ui.waitFor('Wrote 8 changes');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    await ui.waitFor('Phase 2 changes', 'RISK');
    // Offline, even a disruptive change is y/N: writing a copy touches no cluster
    await ui.press('a', 'c');
    const frame = await ui.waitFor('Write? [y/N]');
    expect(frame).not.toContain('Type the context name');
    await ui.press('y');
    await ui.waitFor('written before in this session');
    const shop = readFileSync(join(out, 'shop', '00-namespace.yaml'), 'utf8');
    expect(shop).toContain('pod-security.kubernetes.io/warn: restricted');
    expect(shop).toContain('pod-security.kubernetes.io/enforce:');
    expect(store.getState().manifestWrite?.changes.length).toBeGreaterThan(8);
  });

  it('without --out there is nothing to apply: no selection, no apply key', async () => {
    ui = renderWizard(manifestStore());
    await toChanges(1);
    const frame = ui.lastFrame();
    expect(frame).not.toMatch(/space toggle|c apply/);
    await ui.press('a', 'c');
    expect(ui.lastFrame()).not.toContain('Write?');
  });
});
