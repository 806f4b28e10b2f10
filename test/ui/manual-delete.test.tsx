/**
 * Manual and delete changes in the wizard (issue 9): a manual change shows its artifact and instructions and can
 * be saved to a file the operator confirms (never over an existing one without a yes); a delete change reads as a
 * delete in the changes and diff screens, and offline it leaves the remediated copy.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PlannedChange } from '../../src/engine/types.js';
import { changeSubject, subjectLines } from '../../src/ui/screens/DiffScreen.js';
import { AUDIT_POLICY, INSTRUCTIONS, RBAC_REF, syntheticStep } from './support/synthetic-step.js';
import { clusterStore, type Driven, LEGACY, manifestStore, renderWizard } from './support/wizard.js';

let ui: Driven | undefined;
afterEach(() => ui?.unmount());

const steps = [syntheticStep()];

/** Given the legacy cluster and the synthetic step, when the operator previews phase 1: its changes screen. */
async function changes(options: { readOnly?: boolean } = {}) {
  const { store, cluster } = await clusterStore({ steps, ...options });
  ui = renderWizard(store, { steps, ...options });
  await ui.waitFor('enter phases');
  await ui.press('enter');
  await ui.waitFor('PHASE');
  await ui.press('down', 'p');
  await ui.waitFor('Phase 1 changes', 'RISK');
  return { store, cluster };
}

const rows = (frame: string) => frame.split('\n').filter((l) => /^[ ›] \[[ x-]\] /.test(l));

/** The current directory is a fresh temporary folder (the default path is under it). */
function inTempCwd(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kh-ui-artifact-'));
  vi.spyOn(process, 'cwd').mockReturnValue(dir);
  return dir;
}

describe('delete changes', () => {
  it('show as deletes in the changes list (operation, diff size) and in the detail line', async () => {
    await changes();
    const frame = ui!.lastFrame();
    expect(rows(frame)).toHaveLength(3);
    expect(rows(frame)[1]).toMatch(
      /^ {2}\[ \] disruptive delete rolebinding legacy-batch\/batch-runner-admin +\+0 -13/,
    );
    await ui!.press('down');
    await ui!.waitFor('deletes rolebinding legacy-batch/batch-runner-admin (undo re-creates it)');
  });

  it('the diff says DELETE above the removed object, every line of it removed', async () => {
    await changes();
    await ui!.press('down', 'enter');
    const frame = await ui!.waitFor('· delete · risk disruptive · synthetic');
    expect(frame).toContain('DELETE: rolebinding legacy-batch/batch-runner-admin is removed');
    expect(frame).toContain('+++ /dev/null');
    const body = frame.split('\n').filter((l) => /^[-+ ](?!--|\+\+)/.test(l) && !l.startsWith(' '));
    expect(body.length).toBe(13);
    expect(body.every((l) => l.startsWith('-'))).toBe(true);
  });

  it('applied on a cluster (context name typed: disruptive), it is reported as deleted', async () => {
    const { cluster } = await changes();
    await ui!.press('down', 'space', 'c');
    await ui!.waitFor('Type the context name "kind-test" to confirm');
    await ui!.type('kind-test');
    await ui!.press('enter');
    const frame = await ui!.waitFor('1 of 1 change applied');
    expect(frame).toContain('✓ deleted    rolebinding legacy-batch/batch-runner-admin');
    expect(cluster.writes).toEqual(['delete rolebinding/batch-runner-admin']);
    expect(cluster.object(RBAC_REF)).toBeUndefined();
  });

  it('offline, a written delete leaves the remediated copy (its document dropped, the rest kept)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-ui-delete-'));
    const source = join(dir, 'manifests');
    cpSync(LEGACY, source, { recursive: true });
    const out = join(dir, 'hardened');
    ui = renderWizard(manifestStore(source, { steps }), { steps, outDir: out });
    await ui.waitFor('enter phases');
    await ui.press('enter');
    await ui.waitFor('PHASE');
    await ui.press('down', 'p');
    await ui.waitFor('Phase 1 changes', 'RISK');
    await ui.press('down');
    await ui.waitFor('(removed from the copy)');
    await ui.press('space', 'c');
    await ui.waitFor('Write? [y/N]');
    await ui.press('y');
    const frame = await ui.waitFor('Wrote 1 change');
    expect(frame).toContain('✓ removed    rolebinding legacy-batch/batch-runner-admin');
    const rbac = readFileSync(join(out, 'legacy-batch', '10-rbac.yaml'), 'utf8');
    expect(rbac).not.toContain('name: batch-runner-admin\n');
    expect(rbac).toContain('kind: Role\n');
    expect(readFileSync(join(source, 'legacy-batch', '10-rbac.yaml'), 'utf8')).toContain(
      'name: batch-runner-admin',
    );
  });
});

describe('manual changes', () => {
  it('are listed as manual with an artifact, never selectable; the detail says how to save it', async () => {
    const { store } = await changes();
    let frame = ui!.lastFrame();
    expect(rows(frame)[2]).toMatch(/^ {2}\[-\] manual +manual audit-policy\.yaml +artifact/);
    await ui!.press('down', 'down');
    frame = await ui!.waitFor('s saves the artifact audit-policy.yaml');
    expect(frame).toContain('manual: kube-harden does not apply it');
    await ui!.press('space');
    await ui!.waitFor('a manual change is not applied by kube-harden');
    await ui!.press('a');
    await ui!.waitFor('2 selected');
    expect(store.getState().selected).not.toContain('synthetic/audit-policy');
  });

  it('the diff screen shows the artifact as it is, with the instructions', async () => {
    await changes();
    await ui!.press('down', 'down', 'enter');
    const frame = await ui!.waitFor('artifact audit-policy.yaml (s saves it to a file):');
    expect(frame).toContain('audit-policy.yaml · manual · risk manual · synthetic');
    expect(frame).toContain('to do by hand: Copy audit-policy.yaml to /etc/kubernetes/');
    expect(frame).toContain('    resources:\n      - group: ""');
    expect(frame).toContain('manual: not applied by kube-harden');
    expect(frame).not.toContain('not selected');
  });

  it("an artifact's YAML list items are not drawn as removed lines", () => {
    const change = {
      id: 'x/list',
      step: 'x',
      phase: 1,
      kind: 'manual',
      operation: 'manual',
      risk: 'manual',
      reason: 'r',
      notes: [],
      baseResourceVersion: null,
      diff: { text: '', added: 0, removed: 0 },
      warnings: [],
      preview: 'offline',
      artifact: { path: 'flags.yaml', content: '- --audit-log-maxage=30\n+ not a diff\n--- neither\n' },
      instructions: 'add these flags',
    } satisfies PlannedChange;
    const lines = subjectLines(changeSubject(change, false), 80);
    const body = lines.slice(lines.findIndex((l) => l.text.startsWith('artifact flags.yaml')) + 1);
    expect(body).toEqual([
      { kind: 'ctx', text: '- --audit-log-maxage=30' },
      { kind: 'ctx', text: '+ not a diff' },
      { kind: 'ctx', text: '--- neither' },
    ]);
    expect(lines.some((l) => l.text === 'no difference to show')).toBe(false);
  });

  it('s saves the artifact to the proposed path under the current directory, then says where', async () => {
    const cwd = inTempCwd();
    await changes();
    await ui!.press('down', 'down', 's');
    let frame = await ui!.waitFor('Save the artifact audit-policy.yaml (8 lines) of synthetic/audit-policy');
    expect(frame).toContain('> kube-harden-artifacts/synthetic/audit-policy.yaml');
    expect(frame).toContain(`then: ${INSTRUCTIONS.slice(0, 40)}`);
    await ui!.press('enter');
    const saved = join(cwd, 'kube-harden-artifacts', 'synthetic', 'audit-policy.yaml');
    frame = await ui!.waitFor(`saved ${saved}`, 'Phase 1 changes');
    expect(readFileSync(saved, 'utf8')).toBe(AUDIT_POLICY);
    expect(statSync(saved).mode & 0o777).toBe(0o600);
  });

  it('from the diff screen too, to a path the operator types (read-only sessions may save)', async () => {
    const cwd = inTempCwd();
    await changes({ readOnly: true });
    await ui!.press('down', 'down', 'enter');
    await ui!.waitFor('artifact audit-policy.yaml');
    await ui!.press('s');
    await ui!.waitFor('Save to');
    await ui!.press('ctrl+u');
    await ui!.waitFor(/^> █/m);
    await ui!.type('ops/policy.yaml');
    await ui!.press('enter');
    await ui!.waitFor(`saved ${join(cwd, 'ops', 'policy.yaml')}`, 'audit-policy.yaml · manual');
    expect(readFileSync(join(cwd, 'ops', 'policy.yaml'), 'utf8')).toBe(AUDIT_POLICY);
  });

  it('never overwrites without a yes: Enter (the default) keeps the file, y replaces it', async () => {
    const cwd = inTempCwd();
    const existing = join(cwd, 'kube-harden-artifacts', 'synthetic', 'audit-policy.yaml');
    mkdirSync(join(cwd, 'kube-harden-artifacts', 'synthetic'), { recursive: true });
    writeFileSync(existing, 'mine\n');
    await changes();
    await ui!.press('down', 'down', 's');
    await ui!.waitFor('Save to');
    await ui!.press('enter');
    await ui!.waitFor('kube-harden-artifacts/synthetic/audit-policy.yaml exists. Overwrite it? [y/N]');
    await ui!.press('enter');
    await ui!.waitFor('was not overwritten');
    expect(readFileSync(existing, 'utf8')).toBe('mine\n');
    // Still on the path: Esc leaves without writing
    await ui!.press('esc');
    await ui!.waitFor('Phase 1 changes');
    expect(readFileSync(existing, 'utf8')).toBe('mine\n');
    await ui!.press('s', 'enter');
    await ui!.waitFor('Overwrite it? [y/N]');
    await ui!.press('y');
    await ui!.waitFor(`overwrote ${existing}`);
    expect(readFileSync(existing, 'utf8')).toBe(AUDIT_POLICY);
  });

  it('Esc cancels without writing; s on a change without an artifact says so', async () => {
    const cwd = inTempCwd();
    await changes();
    await ui!.press('s');
    await ui!.waitFor('only manual changes have an artifact to save');
    await ui!.press('down', 'down', 's');
    await ui!.waitFor('Save to');
    await ui!.press('esc');
    await ui!.waitFor('Phase 1 changes');
    expect(existsSync(join(cwd, 'kube-harden-artifacts'))).toBe(false);
  });
});
