/** The wizard's first screen says when exceptions expire soon (count and the soonest), before anything else. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHardenStore } from '../../src/store/store.js';
import { type Driven, LEGACY, PSA_STEPS, renderWizard, sessionOptions } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

/** A register of the legacy example's two used exceptions, expiring on these days (NOW is 2026-06-01). */
function register(nodeExporter: string, calico: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kh-ui-ex-')), 'exceptions.yaml');
  writeFileSync(
    file,
    `apiVersion: kube-harden.io/v1alpha1
kind: ExceptionList
exceptions:
  - { id: node-exporter-host-access, scope: { namespace: monitoring, kind: DaemonSet, name: node-exporter }, controls: [hostNamespaces, hostPathVolumes, hostPorts], reason: r, owner: team-observability, expires: ${nodeExporter} }
  - { id: calico-node-cni, scope: { namespace: kube-system, kind: DaemonSet, name: calico-node }, controls: [privileged, hostNamespaces, hostPathVolumes], reason: r, owner: team-platform-network, expires: ${calico} }
`,
  );
  return file;
}

const storeWith = (exceptionsFile: string) =>
  createHardenStore({ options: sessionOptions({ manifests: LEGACY, exceptionsFile }), steps: PSA_STEPS });

describe('connect screen: exceptions expiring soon', () => {
  it('shows how many expire within the window and the soonest', async () => {
    ui = renderWizard(storeWith(register('2026-06-21', '2026-06-11')));
    const frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toContain('  ! expiring: 2 exceptions within 30d, soonest calico-node-cni in 10 days\n');
  });

  it('says expired ones too, and nothing when none is due', async () => {
    ui = renderWizard(storeWith(register('2026-05-01', '2027-06-11')));
    let frame = await ui.waitFor('Press Enter to continue');
    expect(frame).toContain('  ! 1 exception expired\n');
    ui.unmount();
    ui = renderWizard(storeWith(register('2027-06-21', '2027-06-11')));
    frame = await ui.waitFor('Press Enter to continue');
    expect(frame).not.toMatch(/expiring:|expired/);
  });
});
