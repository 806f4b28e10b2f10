/**
 * `apply --probe` after phase 3, on the real control plane. It has no scheduler and no kubelet, so the probe Pod
 * is created (the API server admits it: here under a namespace that enforces `restricted`) but never runs: that is
 * reported as "probe could not run (Pending: …)", UNKNOWN (exit 7), neither success nor failure, with the undo
 * command; and the Pod is deleted afterwards. Without --probe, verify says plainly that DNS was not probed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { clusterInfo, describeCluster, freshNamespace, kubectl } from '../cluster/harness.js';
import { runCli } from '../support/cli.js';

const STEP = 'network-default-deny';
const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

describeCluster('phase 3 verify --probe (live)', () => {
  let kubeconfig: string;
  let state: string;
  beforeAll(() => {
    kubeconfig = clusterInfo().adminKubeconfig;
    state = mkdtempSync(join(tmpdir(), 'kh-state-'));
  });

  async function planFor(namespace: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'kh-plan-'));
    const r = await runCli(
      ['plan', '-n', namespace, '--step', STEP, '--out', dir, '--kubeconfig', kubeconfig],
      {
        env: { XDG_STATE_HOME: state },
      },
    );
    expect([ExitCode.ok, ExitCode.incomplete], r.stderr).toContain(r.code);
    return dir;
  }

  it('without --probe: applied, and verify says DNS was not probed', async () => {
    const ns = await freshNamespace('noprobe');
    const dir = await planFor(ns);
    const r = await runCli(['apply', '--plan', dir, '--yes', '--kubeconfig', kubeconfig], {
      env: { XDG_STATE_HOME: state },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    expect(r.stderr).toContain(`verify ${STEP}: ok`);
    expect(r.stderr).toContain('DNS was not probed (use --probe)');
  }, 200_000);

  it('--probe: the restricted probe Pod is admitted, stays Pending → UNKNOWN (exit 7) with the undo command, and is deleted', async () => {
    const ns = await freshNamespace('probe', { labels: RESTRICTED });
    const dir = await planFor(ns);
    const r = await runCli(
      ['apply', '--plan', dir, '--yes', '--probe', '--probe-timeout', '3', '--kubeconfig', kubeconfig],
      { env: { XDG_STATE_HOME: state }, timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(ExitCode.incomplete);
    expect(r.stderr).toContain(`verify ${STEP}: UNKNOWN`);
    // Created (Pod Security admitted it under restricted), then never scheduled: no scheduler on this control plane.
    expect(r.stderr).toMatch(
      new RegExp(
        `${ns}: probe Pod kube-harden-dns-probe-\\w+ \\(registry\\.k8s\\.io/e2e-test-images/jessie-dnsutils:1\\.7\\): probe could not run \\(Pending: not scheduled`,
      ),
    );
    expect(r.stderr).not.toContain('not created');
    expect(r.stderr).not.toContain('FAILED');
    expect(r.stderr).toMatch(/undo with: kube-harden undo \S+/);
    // Always deleted.
    expect((await kubectl(['get', 'pods', '-n', ns, '-o', 'name'])).trim()).toBe('');
  }, 200_000);

  it('--probe-image without --probe is a usage error (exit 2), before anything is read', async () => {
    const r = await runCli([
      'apply',
      '--plan',
      '/nonexistent',
      '--probe-image',
      'x:1',
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('--probe-image needs --probe');
  });
});
