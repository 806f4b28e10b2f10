/**
 * Phase 6 in the wizard (issue 14), with the real audit-logging and secrets-encryption steps over a cluster shaped
 * like kubeadm's (test/fixtures/control-plane/): before the preview the operator picks the audit tier, the backend
 * and the shipper; the preview lists the phase's artifacts (policy, flags, kubeadm patch, shipping snippet, alerts,
 * EncryptionConfiguration, runbook), each saved to a file with `s`; the phase stays "planned" while artifacts are
 * left to put in place, and is "done" only when detection sees the flags in place (the hardened fixture).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Step } from '../../src/engine/types.js';
import { auditLogging, auditPolicy, shippingSnippet } from '../../steps/audit-logging.js';
import { secretsEncryption } from '../../steps/secrets-encryption.js';
import { CONTROL_PLANE_FIXTURES } from '../support/control-plane.js';
import { clusterStore, type Driven, renderWizard } from './support/wizard.js';

const STEPS = [auditLogging, secretsEncryption] as unknown as readonly Step<never>[];

let ui: Driven | undefined;
afterEach(() => {
  ui?.unmount();
  vi.restoreAllMocks();
});

const rows = (frame: string) => frame.split('\n').filter((l) => /^[ ›] \[[ x-]\] /.test(l));
const phaseRow = (frame: string) => frame.split('\n').find((l) => /^ ?[ ›] [ ★] 6 /.test(l)) ?? '';

/** Given a kubeadm-shaped cluster, the operator opens the phases and previews phase 6: its first question. */
async function preview(fixture: 'kubeadm-default' | 'kubeadm-hardened') {
  const { store } = await clusterStore({ seed: join(CONTROL_PLANE_FIXTURES, fixture), steps: STEPS });
  ui = renderWizard(store, { steps: STEPS, size: { columns: 100, rows: 30 } });
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  await ui.press('down', 'p');
  return store;
}

describe('phase 6 in the wizard', () => {
  it('asks tier, backend and shipper before the preview, then previews with the answers', async () => {
    const store = await preview('kubeadm-default');
    let frame = await ui!.waitFor('Audit policy tier');
    expect(frame).toContain('(1/3)');
    expect(frame).toContain('--audit-tier');
    expect(frame).toMatch(/› +minimal +who did what/);
    expect(frame).toMatch(/• standard/); // the value in effect: the default
    expect(store.getState().plan).toBeUndefined(); // nothing planned before the choices
    await ui!.press('down', 'down', 'enter');
    frame = await ui!.waitFor('Where the audit log is shipped');
    expect(frame).toContain('(2/3)');
    await ui!.press('down', 'enter');
    frame = await ui!.waitFor('What tails the audit log');
    expect(frame).toContain('(3/3)');
    expect(frame).toContain('Enter previews');
    await ui!.press('down', 'enter');
    frame = await ui!.waitFor('Phase 6 changes');
    const settings = store.getState().settings;
    expect(settings).toMatchObject({
      'audit-logging.tier': 'forensic',
      'audit-logging.sink': 'elasticsearch',
      'audit-logging.shipper': 'vector',
    });
    // The artifacts of both steps, all manual.
    const paths = (store.getState().plan?.changes ?? []).map((c) => c.artifact?.path).sort();
    expect(paths).toEqual([
      'audit-alerts-elasticsearch.txt',
      'audit-policy.yaml',
      'encryption-config.yaml',
      'encryption-kubeadm-patch.yaml',
      'encryption-runbook.md',
      'kube-apiserver-audit-flags.txt',
      'kubeadm-audit-patch.yaml',
      'vector-audit-elasticsearch.yaml',
    ]);
    const policy = store.getState().plan?.changes.find((c) => c.artifact?.path === 'audit-policy.yaml');
    expect(policy?.artifact?.content).toBe(auditPolicy('forensic'));
    expect(rows(frame).length).toBeGreaterThanOrEqual(5);
    expect(frame).toMatch(/manual/);
  });

  it('s saves an artifact of the phase to a file, with exactly the content the plan shows', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kh-ui-phase6-'));
    vi.spyOn(process, 'cwd').mockReturnValue(cwd);
    const store = await preview('kubeadm-default');
    await ui!.waitFor('Audit policy tier');
    await ui!.press('enter'); // minimal
    await ui!.waitFor('Where the audit log is shipped');
    await ui!.press('enter'); // loki
    await ui!.waitFor('What tails the audit log');
    await ui!.press('enter'); // fluent-bit
    let frame = await ui!.waitFor('Phase 6 changes');
    // Walk the list to the shipping snippet, then save it.
    const plan = store.getState().plan;
    const snippet = shippingSnippet('fluent-bit', 'loki');
    for (let i = 0; i < 12 && !ui!.lastFrame().includes(`${snippet.path} (s saves it`); i++) {
      if (ui!.lastFrame().includes(`s saves the artifact ${snippet.path}`)) break;
      await ui!.press('down');
    }
    frame = await ui!.waitFor(`s saves the artifact ${snippet.path}`);
    await ui!.press('s');
    frame = await ui!.waitFor(`Save the artifact ${snippet.path}`);
    expect(frame).toContain(`> kube-harden-artifacts/audit-logging/${snippet.path}`);
    await ui!.press('enter');
    const saved = join(cwd, 'kube-harden-artifacts', 'audit-logging', snippet.path);
    await ui!.waitFor(`saved ${saved}`, 'Phase 6 changes');
    expect(readFileSync(saved, 'utf8')).toBe(snippet.content);
    expect(plan?.changes.find((c) => c.artifact?.path === snippet.path)?.artifact?.content).toBe(
      snippet.content,
    );
    // Artifacts left to put in place: the phase is planned, not done.
    await ui!.press('esc', 'esc', 'esc', 'esc');
    frame = await ui!.waitFor(/ 6 Audit logging/);
    expect(phaseRow(frame)).toMatch(/planned/);
    expect(phaseRow(frame)).not.toMatch(/done/);
  });

  it('with the flags in place (kubeadm after phase 6): nothing to do, and the phase is done', async () => {
    const store = await preview('kubeadm-hardened');
    for (const q of ['Audit policy tier', 'Where the audit log is shipped', 'What tails the audit log']) {
      await ui!.waitFor(q);
      await ui!.press('enter');
    }
    await ui!.waitFor('Phase 6');
    await waitFor(() => store.getState().plan);
    expect(store.getState().plan?.changes).toEqual([]);
    expect(store.getState().plan?.unknown).toEqual([]);
    await ui!.press('esc', 'esc', 'esc', 'esc');
    const frame = await ui!.waitFor(/ 6 Audit logging/);
    expect(phaseRow(frame)).toMatch(/done/);
  });
});

async function waitFor<T>(get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
