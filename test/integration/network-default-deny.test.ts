/**
 * network-default-deny (phase 3) against the real control plane on the loaded legacy example: plan (every
 * generated NetworkPolicy previewed by a server-side dry-run), apply from the saved plan, idempotence (plan again:
 * no change), undo (the created policies are gone, the example's own are untouched); and offline, `plan
 * --manifests --step network-default-deny --out` writes the policies as new files beside each namespace's manifests.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readPlanDir } from '../../src/engine/plan-file.js';
import { ExitCode } from '../../src/errors.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { clusterInfo, describeCluster, kubectl, kubectlJson } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';
import { applyExample, EXAMPLE, noneTerminating } from '../support/example.js';

const STEP = 'network-default-deny';
const APPLICATION = ['ci', 'data', 'legacy-batch', 'payments', 'shop'];
/** The example's system and infrastructure namespaces: never written without the settings that include them. */
const NOT_BY_DEFAULT = ['kube-system', 'ingress-nginx', 'monitoring', 'cert-manager'];

async function policies(): Promise<string[]> {
  const list = await kubectlJson<{ items: KubeObject[] }>(['get', 'networkpolicies', '-A']);
  return list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();
}

describeCluster('network-default-deny on the legacy example (live)', () => {
  let state: string;
  let kubeconfig: string;
  const env = () => ({ XDG_STATE_HOME: state });

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
    kubeconfig = clusterInfo().adminKubeconfig;
    await noneTerminating();
    await applyExample();
  }, 300_000);

  afterAll(async () => {
    await kubectl(['delete', '-R', '-f', EXAMPLE, '--wait=false', '--ignore-not-found'], {
      timeoutMs: 120_000,
    });
  });

  it('plan → every policy previewed by the server; apply --plan; plan again: none; undo removes exactly them', async () => {
    const before = await policies();
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const planned = await runCli(['plan', '-A', '--step', STEP, '--out', dir, '--kubeconfig', kubeconfig], {
      env: env(),
    });
    expect([ExitCode.ok, ExitCode.incomplete], planned.stderr).toContain(planned.code);
    const saved = readPlanDir(dir);
    const changes = saved.changes;
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c.step).toBe(STEP);
      expect(c.kind).toBe('apply');
      expect(c.operation, c.id).toBe('create');
      // The server accepted the object (server-side dry-run of the create).
      expect(c.preview, `${c.id}: ${c.previewError}`).toBe('ok');
      expect(c.target?.kind).toBe('NetworkPolicy');
      expect(c.target?.name.startsWith('kube-harden-')).toBe(true);
      expect(NOT_BY_DEFAULT).not.toContain(c.target?.namespace);
    }
    const namespaces = new Set(changes.map((c) => c.target?.namespace));
    for (const n of APPLICATION) expect(namespaces.has(n), n).toBe(true);
    // The loaded example runs calico: the verdict is a finding, and no change says "no effect".
    const step = saved.steps.find((s) => s.id === STEP);
    expect(step?.findings.some((f) => f.control === 'KH-NET-CNI')).toBe(true);

    const applied = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      timeoutMs: 180_000,
    });
    expect(applied.code, applied.stderr).toBe(ExitCode.ok);
    const created = changes.map((c) => `${c.target?.namespace}/${c.target?.name}`);
    expect(await policies()).toEqual([...before, ...created].sort());
    const shopDeny = await kubectlJson<KubeObject>([
      'get',
      'networkpolicy',
      '-n',
      'shop',
      ...(created.includes('shop/kube-harden-default-deny')
        ? ['kube-harden-default-deny']
        : [created.find((n) => n.startsWith('shop/kube-harden-default-deny'))?.split('/')[1] as string]),
    ]);
    expect(shopDeny.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kube-harden');

    const again = await runCli(
      ['plan', '-A', '--step', STEP, '--detailed-exitcode', '--kubeconfig', kubeconfig],
      { env: env() },
    );
    expect(again.code, again.stdout + again.stderr).toBe(ExitCode.ok);

    const undone = await runCli(['undo', saved.id, '--yes', '--kubeconfig', kubeconfig], {
      env: env(),
      timeoutMs: 180_000,
    });
    expect(undone.code, undone.stderr).toBe(ExitCode.ok);
    expect(await policies()).toEqual(before);
    console.log(
      `[netpol] ${changes.length} policies planned, applied, re-planned (exit ${again.code}) and undone; ${before.length} existing kept`,
    );
  }, 600_000);
});

describe('network-default-deny offline', () => {
  it('plan --manifests --step network-default-deny --out writes the policies as new files beside each namespace', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kh-off-')), 'out');
    const r = await runCli(['plan', '--manifests', 'examples/legacy-cluster', '--step', STEP, '--out', out]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const saved = readPlanDir(out);
    expect(saved.changes.length).toBeGreaterThan(0);
    expect(r.stderr).toContain(`0 file(s) changed, ${saved.changes.length} created`);
    expect(existsSync(join(out, 'remediated', 'kube-harden'))).toBe(false);
    for (const c of saved.changes) {
      const file = join(
        out,
        'remediated',
        c.target?.namespace as string,
        `networkpolicy-${c.target?.name}.yaml`,
      );
      const object = parse(readFileSync(file, 'utf8')) as KubeObject;
      expect(object.kind).toBe('NetworkPolicy');
      expect(object.metadata.name).toBe(c.target?.name);
      expect(object.spec).toEqual(c.desired?.spec);
    }
    // The example's own files are copied as they are.
    const shop = readdirSync(join(out, 'remediated', 'shop')).filter((f) => !f.startsWith('networkpolicy-'));
    for (const f of shop)
      expect(readFileSync(join(out, 'remediated', 'shop', f), 'utf8')).toBe(
        readFileSync(join(EXAMPLE, 'shop', f), 'utf8'),
      );
  });
});
